"""`lipread transcribe`: transcribing video files to text and subtitles."""

from lipread.cli._common import not_built_command

command = not_built_command("transcribe", "transcribing video files to text and subtitles", "Transcribe VIDEO files to text and subtitles.")
