"""`lipread info`: media and face information."""

from lipread.cli._common import not_built_command

command = not_built_command("info", "media and face information", "Show streams, codecs, resolution, fps and duration of VIDEO files.")
