"""Issue 19: every command behaves the same way. One-line errors (no traceback) checked before any
work starts, exit 2 for a wrong command line and 1 for a failed input or output, no silent
overwrites, one output flag, one meaning of --json, help for every option, the logging convention.

The cases that need no real video run everywhere; those that run the model on GRID clips are in
``tests/pipelines/test_transcribe_conventions.py``.
"""

from __future__ import annotations

import json
import logging

import click
import pytest
import torch

from lipread.cli.main import cli, main
from lipread.models.zoo import DEFAULT_MODEL, list_zoo

HAS_ZOO = DEFAULT_MODEL in list_zoo()


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, *needles: str) -> str:
    """stderr holds exactly one ``lipread: error:`` line (and no traceback) with every needle in it."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("lipread: error: "), err
    for n in needles:
        assert n in lines[0], (n, err)
    return lines[0]


@pytest.fixture
def unwritable(tmp_path):
    """A location that cannot be written even by root: a folder under a regular file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return blocker / "sub"


@pytest.fixture
def recipe(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("model: {name: lipnet_tiny}\ndata: {cache: nowhere}\nmax_steps: 2\n")
    return path


# ---- unwritable outputs: one line, exit 1, before any work (a missing model/cache is not reached) ----------
@pytest.mark.parametrize("command", [
    ["transcribe", "clip.mp4", "-m", "no-such-model"],
    ["crop", "clip.mp4"],
    ["prepare", "grid", "nowhere"],
    ["evaluate", "no-such-model", "no-such-cache"],
    ["score", "ref.txt", "hyp.txt"],
])
def test_unwritable_output_is_one_line_before_any_work(capsys, unwritable, command):
    code, _, err = run(capsys, *command, "-o", unwritable)
    assert code == 1
    one_line_error(err, str(unwritable), "cannot write", "-o")


def test_unwritable_train_run_folder(capsys, unwritable, recipe):
    code, _, err = run(capsys, "train", recipe, "-o", unwritable)
    assert code == 1
    one_line_error(err, str(unwritable), "cannot write")


def test_pseudo_file_system_output(capsys):
    code, _, err = run(capsys, "transcribe", "clip.mp4", "-m", "no-such-model", "-o", "/proc/lipread-out")
    assert code == 1
    one_line_error(err, "/proc/lipread-out", "cannot write")


def test_an_existing_file_as_output_folder(capsys, tmp_path):
    (tmp_path / "f").write_text("")
    code, _, err = run(capsys, "crop", "clip.mp4", "-o", tmp_path / "f")
    assert code == 1
    one_line_error(err, "is a file, not a folder")


# ---- devices ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["transcribe", "clip.mp4"], ["evaluate", DEFAULT_MODEL, "cache"]])
def test_a_device_name_that_is_not_a_device_is_a_usage_error(capsys, command):
    code, _, err = run(capsys, *command, "--device", "gpu")
    assert code == 2
    one_line_error(err, "unknown device 'gpu'", "auto", "cuda:N")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("command", [["transcribe", "clip.mp4"], ["evaluate", DEFAULT_MODEL, "cache"]])
def test_cuda_on_a_machine_without_it(capsys, command):
    code, _, err = run(capsys, *command, "--device", "cuda")
    assert code == 1
    one_line_error(err, "'cuda'", "--device cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_in_the_python_api():
    import lipread
    from lipread.errors import DeviceError, UsageError

    with pytest.raises(DeviceError, match="CUDA"):
        lipread.load_model(DEFAULT_MODEL, device="cuda")
    with pytest.raises(UsageError, match="unknown device"):
        lipread.load_model(DEFAULT_MODEL, device="gpu")


def test_device_defaults_to_auto():
    for name in ("transcribe", "evaluate"):
        (device,) = [p for p in cli.commands[name].params if p.name == "device"]
        assert device.default == "auto"


# ---- train -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("override, needles", [
    ("max_steps=abc", ["max_steps", "integer", "'abc'"]),
    ("threads=two", ["threads", "integer", "'two'"]),
    ("data.batch_size=0", ["data.batch_size", "at least 1", "0"]),
    ("optim.lr=-1", ["optim.lr", "more than 0"]),
    ("optim.betas=[0.9]", ["optim.betas", "2 values"]),
    ("precision=fp8", ["precision", "fp32, bf16, fp16"]),
    ("tensorboard=maybe", ["tensorboard", "true or false"]),
    ("device=gpu", ["device", "unknown device"]),
    ("optim.lrr=1", ["optim.lrr", "Did you mean optim.lr"]),
])
def test_train_overrides_are_checked_and_name_the_key(capsys, recipe, tmp_path, override, needles):
    code, _, err = run(capsys, "train", recipe, override, "-o", tmp_path / "run")
    assert code == 2
    one_line_error(err, *needles)
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_bad_value_in_the_recipe_names_the_file(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_steps: many\n")
    code, _, err = run(capsys, "train", bad)
    assert code == 1
    one_line_error(err, str(bad), "max_steps", "integer")


def test_train_refuses_a_folder_that_holds_a_run(capsys, recipe, tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints" / "step_0000010").mkdir(parents=True)
    (run_dir / "metrics.jsonl").write_text('{"step": 1, "loss": 3.0}\n')
    code, _, err = run(capsys, "train", recipe, "-o", run_dir)
    assert code == 1
    one_line_error(err, str(run_dir), "already holds a training run", "metrics.jsonl", "--resume", "fresh folder")
    assert (run_dir / "metrics.jsonl").read_text() == '{"step": 1, "loss": 3.0}\n'  # untouched
    # the old spelling --out is the same option
    code, _, err = run(capsys, "train", recipe, "--out", run_dir)
    assert code == 1 and "already holds" in err


# ---- no silent overwrites --------------------------------------------------------------------------------
def test_two_inputs_with_one_name_are_refused(capsys, tmp_path):
    code, _, err = run(capsys, "transcribe", "d1/x.mpg", "d2/x.mpg", "-o", tmp_path / "out")
    assert code == 2
    one_line_error(err, "d1/x.mpg", "d2/x.mpg", "x.*", "-o")
    code, _, err = run(capsys, "crop", "a/clip.mp4", "b/clip.mkv", "-o", tmp_path / "out")
    assert code == 2
    one_line_error(err, "a/clip.mp4", "b/clip.mkv")
    assert not (tmp_path / "out").exists()


def test_formats_repeat_or_comma_list():
    from lipread.cli._common import split_formats
    from lipread.errors import UsageError

    choices = ["txt", "srt", "vtt", "json"]
    assert split_formats(("srt", "vtt"), choices) == ["srt", "vtt"]
    assert split_formats(("srt,vtt",), choices) == ["srt", "vtt"]
    assert split_formats(("all",), choices) == choices
    assert split_formats(("srt", "SRT, json"), choices) == ["srt", "json"]
    with pytest.raises(UsageError, match="'xml'"):
        split_formats(("srt,xml",), choices)


def test_unknown_format_is_a_usage_error(capsys):
    code, _, err = run(capsys, "transcribe", "clip.mp4", "-f", "srt,doc")
    assert code == 2
    one_line_error(err, "'doc'", "txt, srt, vtt, json or all")


# ---- options out of range or ignored ---------------------------------------------------------------------
@pytest.mark.parametrize("command, needles", [
    (["transcribe", "clip.mp4", "--batch-size", "0"], ["--batch-size", "0"]),
    (["transcribe", "clip.mp4", "--beam-size", "0"], ["--beam-size", "0"]),
    (["evaluate", "m", "cache", "--batch-size", "0"], ["--batch-size", "0"]),
    (["evaluate", "m", "cache", "--limit", "-1"], ["--limit", "-1"]),
    (["prepare", "grid", "root", "--landmarks", "dlib"], ["--landmarks", "dlib"]),
    (["transcribe", "clip.mp4", "--bogus"], ["--bogus"]),
])
def test_out_of_range_options_are_usage_errors(capsys, command, needles):
    code, _, err = run(capsys, *command)
    assert code == 2
    line = one_line_error(err, *needles)
    assert "--help" in line


@pytest.mark.skipif(not HAS_ZOO, reason=f"zoo model {DEFAULT_MODEL} is not in models/")
def test_lm_with_the_greedy_decoder_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "transcribe", "clip.mp4", "--decoder", "greedy", "--lm", "grid", "-o", tmp_path)
    assert code == 2
    one_line_error(err, "--lm applies only to the beam decoder", "--decoder beam")


def test_decoder_settings_are_checked_in_the_python_api_too():
    from lipread.errors import UsageError
    from lipread.pipelines.transcribe import resolve_decode_options

    stored = {"decoder": "greedy"}
    with pytest.raises(UsageError, match="--beam-size, --lm apply only to the beam decoder"):
        resolve_decode_options(stored, lm="grid", beam_size=5)
    with pytest.raises(UsageError, match="unknown decoder 'viterbi'"):
        resolve_decode_options(stored, decoder="viterbi")
    with pytest.raises(UsageError, match="beam size"):
        resolve_decode_options(stored, decoder="beam", beam_size=0)
    opts = resolve_decode_options({"decoder": "beam", "beam_size": 20, "lm": "x.arpa"}, beam_size=5)
    assert (opts.decoder, opts.beam_size, opts.lm) == ("beam", 5, "x.arpa")
    assert resolve_decode_options(stored, decoder="beam", lm="grid").lm == "grid"


# ---- score reads what transcribe prints ------------------------------------------------------------------
def test_score_reads_tab_lines_and_stdin(capsys, tmp_path, monkeypatch):
    import io

    ref = tmp_path / "ref.txt"
    ref.write_text("bbaf2n bin blue at f two now\nbbaf3s bin blue at f three soon\n")
    printed = "/data/s1/bbaf2n.mp4\tbin blue at f two now\n/data/s1/bbaf3s.mpg\tbin blue at\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(printed))
    code, out, err = run(capsys, "score", ref, "-", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["words"]["ref_len"] == 12 and report["words"]["deletions"] == 3
    assert [u["id"] for u in report["utterances"]] == ["bbaf2n", "bbaf3s"]


def test_transcript_files_with_tabs_and_empty_texts():
    from lipread.metrics.files import read_transcripts

    path = "/tmp/lipread-test-tabs.txt"
    with open(path, "w") as f:
        f.write("dir with space/a.mp4\tbin blue\nb.mp4\t\nc plain text\n")
    assert read_transcripts(path) == {"dir with space/a.mp4": "bin blue", "b.mp4": "", "c": "plain text"}


def test_ids_that_differ_only_by_folder_must_stay_unique(capsys, tmp_path):
    ref = tmp_path / "ref.txt"
    ref.write_text("x one\n")
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("a/x.mp4\tone\nb/x.mp4\tone\n")
    code, _, err = run(capsys, "score", ref, hyp)
    assert code == 1
    one_line_error(err, "only in")


# ---- one output flag, one meaning of --json, help for every option ---------------------------------------
def test_every_command_that_writes_files_takes_o_output_dir():
    for name in ("transcribe", "crop", "prepare", "train", "evaluate", "score"):
        opts = {o for p in cli.commands[name].params for o in getattr(p, "opts", [])}
        assert {"-o", "--output-dir"} <= opts, name


def test_json_is_a_switch_that_prints_json_everywhere():
    have = [name for name, cmd in cli.commands.items() for p in cmd.params if "--json" in getattr(p, "opts", [])]
    assert sorted(have) == ["evaluate", "info", "live", "models", "score"]
    for name in have:
        (p,) = [p for p in cli.commands[name].params if "--json" in p.opts]
        assert "JSON on stdout" in p.help, name
        if name == "evaluate":  # `--json` prints; `--json FILE` (the WLAS issue's spelling) writes the summary
            assert not p.is_flag and p.flag_value == "-" and "--json FILE" in p.help
        else:
            assert p.is_flag, name


def test_the_old_json_file_spelling_gets_a_hint(capsys, tmp_path):
    code, _, err = run(capsys, "score", "ref.txt", "hyp.txt", "--json", tmp_path / "out.json")
    assert code == 2
    one_line_error(err, "--json is a switch", "-o DIR")


def test_every_option_has_help_and_summaries_are_whole():
    for name, cmd in cli.commands.items():
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.hidden:
                assert p.help, f"lipread {name} {p.opts[0]} has no help"
        assert not cmd.get_short_help_str(limit=80).endswith("..."), name
    for name in ("transcribe", "evaluate"):
        helps = {p.name: p.help for p in cli.commands[name].params if isinstance(p, click.Option)}
        assert "'grid'" in helps["lm"] and "'grid'" in helps["lexicon"]


# ---- exit codes and the error prefix ---------------------------------------------------------------------
@pytest.mark.parametrize("command, code", [
    (["transcribe"], 2),                      # missing argument
    (["nonsense"], 2),                        # unknown command
    (["info", "--landmarks", "x", "a.mp4"], 2),
    (["score", "missing-ref.txt", "missing-hyp.txt"], 1),
    (["train", "missing.yaml"], 1),
    (["models", "no-such-model*"], 1),
])
def test_usage_errors_exit_2_input_failures_exit_1(capsys, command, code):
    got, _, err = run(capsys, *command)
    assert got == code
    one_line_error(err)


def test_info_reports_no_audio_and_face_frames(capsys, tmp_path):
    import numpy as np

    from lipread.io.writer import write_video

    blank = write_video(tmp_path / "silent.mkv", np.full((6, 64, 64, 3), 90, np.uint8))
    code, out, _ = run(capsys, "info", blank)
    assert code == 0 and "no audio" in out
    code, out, _ = run(capsys, "info", "--json", "--face", "--landmarks", "opencv", blank)
    data = json.loads(out)
    assert code == 0 and data["audio"] is False
    assert data["face"] == {"frames": 6, "found": 0.0, "backend": "opencv"}


# ---- logging and progress --------------------------------------------------------------------------------
@pytest.mark.parametrize("flags, level", [([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG),
                                          (["-q"], logging.ERROR)])
def test_verbosity_levels(capsys, flags, level):
    from lipread import progress

    assert main([*flags, "models", "lipnet_tiny"]) == 0
    assert logging.getLogger("lipread").level == level
    # other libraries stay at warnings, so -vv is lipread's debug, not matplotlib's
    assert logging.getLogger("matplotlib").getEffectiveLevel() >= logging.WARNING
    assert progress._ENABLED is (False if flags == ["-q"] else None)
    main(["models", "lipnet_tiny"])  # back to the default for the other tests
    capsys.readouterr()


def test_progress_bars_follow_the_convention(monkeypatch):
    from lipread import progress

    class Tty:
        def isatty(self):
            return True

        def write(self, s):
            return len(s)

        def flush(self):
            pass

    progress.set_progress(None)
    assert progress_disabled(progress.progress_bar(total=3, file=Tty())) is False
    assert progress_disabled(progress.progress_bar(total=3)) is True  # stderr is not a terminal under pytest
    progress.set_progress(False)  # -q
    try:
        assert progress_disabled(progress.progress_bar(total=3, file=Tty())) is True
    finally:
        progress.set_progress(None)


def progress_disabled(bar) -> bool:
    disabled = bool(bar.disable)  # read before close(), which sets it
    bar.close()
    return disabled


# ---- every subcommand: a bad path, a bad type, an unwritable output ---------------------------------------
WALK = {
    # command: (bad path -> 1, bad type -> 2, unwritable output -> 1 or None when it writes no files)
    "transcribe": (["transcribe", "missing.mp4"], ["transcribe", "clip.mp4", "--batch-size", "many"],
                   ["transcribe", "clip.mp4", "-o", "{unwritable}"]),
    "crop": (["crop", "missing.mp4", "-o", "{tmp}"], ["crop", "clip.mp4", "--preset", "huge"],
             ["crop", "clip.mp4", "-o", "{unwritable}"]),
    "info": (["info", "missing.mp4"], ["info", "clip.mp4", "--landmarks", "dlib"], None),
    "prepare": (["prepare", "grid", "missing-root", "-o", "{tmp}/cache"],
                ["prepare", "grid", "root", "--workers", "two"], ["prepare", "grid", "root", "-o", "{unwritable}"]),
    "train": (["train", "missing.yaml"], ["train", "{recipe}", "max_steps=abc"],
              ["train", "{recipe}", "-o", "{unwritable}"]),
    "evaluate": (["evaluate", DEFAULT_MODEL if HAS_ZOO else "missing-model", "missing-cache"],
                 ["evaluate", "m", "cache", "--limit", "all"], ["evaluate", "m", "cache", "-o", "{unwritable}"]),
    "score": (["score", "missing-ref.txt", "missing-hyp.txt"], ["score", "ref.txt", "hyp.txt", "--no-normalize=x"],
              ["score", "ref.txt", "hyp.txt", "-o", "{unwritable}"]),
    "models": (["models", "missing*"], ["models", "--json=x"], None),
    "live": (["live", "missing.mp4"], ["live", "clip.mp4", "--modality", "lips"],
             ["live", "clip.mp4", "-o", "{unwritable}"]),
}


def test_walk_covers_every_subcommand():
    assert set(WALK) == set(cli.commands)


@pytest.mark.parametrize("name", sorted(WALK))
def test_walk_bad_path_bad_type_unwritable_output(capsys, tmp_path, unwritable, recipe, name):
    values = {"tmp": str(tmp_path), "unwritable": str(unwritable), "recipe": str(recipe)}
    for case, (args, expected) in enumerate(zip(WALK[name], (1, 2, 1))):
        if args is None:
            continue
        code, _, err = run(capsys, *(a.format(**values) for a in args))
        assert code == expected, (args, err)
        assert "Traceback" not in err
        lines = [line for line in err.splitlines() if line.startswith("lipread: error: ")]
        assert lines, (args, err)
        assert all(line.startswith("lipread: ") for line in err.splitlines() if line.strip()), err
        if case == 2:
            assert "cannot write" in lines[0]


def test_verbosity_switches_may_follow_the_command(capsys):
    from lipread.cli.main import hoist_verbosity

    assert hoist_verbosity(["transcribe", "x.mp4", "-q"]) == ["-q", "transcribe", "x.mp4"]
    assert hoist_verbosity(["score", "a", "--", "-v"]) == ["score", "a", "--", "-v"]
    assert main(["models", "lipnet_tiny", "-vv"]) == 0
    assert logging.getLogger("lipread").level == logging.DEBUG
    main(["models", "lipnet_tiny"])
    capsys.readouterr()


# ---- decoder settings that do not fit the model or each other ------------------------------------------
@pytest.mark.skipif(not HAS_ZOO, reason="the zoo model is not bundled in this install")
@pytest.mark.parametrize("flags, needles", [
    (["--ctc-weight", "0.3"], ["--ctc-weight", "attention models"]),
    (["--length-norm", "1"], ["--length-norm", "attention models"]),
    (["--decoder", "greedy", "--grammar", "grid"], ["--grammar", "only to the beam decoder"]),
    (["--grammar", "grid", "--lm", "grid"], ["--grammar and --lm"]),
])
def test_decoder_settings_a_ctc_model_cannot_take(capsys, tmp_path, flags, needles):
    code, _, err = run(capsys, "transcribe", tmp_path / "clip.mp4", "-m", "lipnet-grid-s1", "-o", tmp_path, *flags)
    assert code == 2
    one_line_error(err, *needles)


@pytest.mark.skipif(not HAS_ZOO, reason="the zoo model is not bundled in this install")
def test_the_default_attention_model_refuses_ctc_only_settings(capsys, tmp_path):
    code, _, err = run(capsys, "transcribe", tmp_path / "clip.mp4", "-o", tmp_path, "--lm", "grid", "--lexicon", "grid")
    assert code == 2
    one_line_error(err, "--lm, --lexicon apply only to CTC models", "decodes with attention")


def test_ctc_weight_must_be_below_one(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", DEFAULT_MODEL, tmp_path, "--ctc-weight", "1")
    assert code == 2
    assert "--ctc-weight" in err and "Traceback" not in err


def test_the_command_exits_at_once_with_its_output_flushed_and_its_code():
    """``python -m lipread`` ends with os._exit after flushing (cli.main.run): what it printed arrives whole and
    the exit code is the command's, for success and failure alike."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "lipread", "models"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and "wlas-grid-s1" in ok.stdout and "lipnet-grid-s1" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "lipread", "transcribe", "/no/such/clip.mp4"], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 1 and "file not found" in bad.stderr
