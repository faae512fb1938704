"""Bad input gets one clear line and a non-zero exit, with no traceback and nothing written."""

import pytest

from conftest import suite_cli


@pytest.mark.parametrize("args, message", [
    (["task99"], "unknown task 'task99'"),
    (["task07", "--backend", "theano"], "unknown backend 'theano'"),
    (["task07", "--profile", "huge"], "unknown profile 'huge'"),
    (["task07", "--epochs", "0"], "expected a positive integer, got 0"),
    (["task07", "--seeds", "-2"], "expected a positive integer, got -2"),
    (["task07", "--subset", "many"], "expected a positive integer, got 'many'"),
    (["task07", "--bogus"], "unrecognized arguments: --bogus"),
    (["task23"], "not implemented yet"),
    (["task07", "--set", "foo=1"], "unknown option 'foo' (valid keys: none"),
    (["task02", "--set", "imagez=a.png"], "unknown option 'imagez' (valid keys: images)"),
    (["task02", "--images", "no_such.png"], "image no_such.png: no such file"),
    (["no_such_study.py"], "no study file no_such_study.py"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    out = tmp_path / "results"
    proc = suite_cli([*args, "--results-dir", str(out), "--submission-dir", str(tmp_path / "sub")])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() and not (tmp_path / "sub").exists()


def test_missing_data_folder_is_named(tmp_path):
    proc = suite_cli(["task07", "--profile", "smoke", "--results-dir", str(tmp_path / "r")],
                     env={"SUITE_DATA_DIR": str(tmp_path / "nowhere")})
    assert proc.returncode == 2 and "SUITE_DATA_DIR" in proc.stderr and "mnist.npz" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_offline_without_a_copy_names_the_file(tmp_path):
    proc = suite_cli(["task07", "--profile", "smoke", "--results-dir", str(tmp_path / "r")],
                     env={"SUITE_DATA_DIR": str(tmp_path), "SUITE_CACHE_DIR": str(tmp_path / "cache"),
                          "SUITE_OFFLINE": "1"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: mnist.npz not found")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r" / "task07" / "jax" / "smoke" / "main").exists()


def test_unwritable_results_folder(tmp_path, mnist_available):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    proc = suite_cli(["task07", "--profile", "smoke", "--epochs", "1", "--subset", "64",
                      "--results-dir", str(blocker / "results")])
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr


def test_list_shows_the_whole_catalogue():
    proc = suite_cli(["list"])
    assert proc.returncode == 0
    for i in range(1, 24):
        assert f"task{i:02d}" in proc.stdout
    assert "task07  Optimizers" in proc.stdout and "[implemented]" in proc.stdout
    assert "seed claim: AdamW: the best performer" in proc.stdout


def test_report_without_results_says_how_to_get_them(tmp_path):
    proc = suite_cli(["task07", "--profile", "smoke", "--results-dir", str(tmp_path)], module="suite.report")
    assert proc.returncode == 2 and "python -m suite.run task07" in proc.stderr


def test_overridden_runs_are_stored_apart_from_the_profiles_own():
    from suite.study.profiles import make_profile

    assert make_profile("quick").label == "quick"
    assert make_profile("quick", seeds=5).label == "quick"  # more or fewer seeds: same runs
    assert make_profile("quick", epochs=5, subset=1000).label == "quick-epochs5-subset1000"


def test_list_help_and_errors_print_no_tensorflow_log_lines(tmp_path):
    loud = {"TF_CPP_MIN_LOG_LEVEL": "0"}  # TensorFlow >= 2.19 ignores it at import anyway
    for args in (["list"], ["--help"], ["task07", "--set", "foo=1"]):
        proc = suite_cli(args, "tensorflow", env=loud)
        noise = [l for l in proc.stderr.splitlines() if not l.startswith("error: ")]
        assert noise == [], (args, proc.stderr[-2000:])


def test_nothing_imports_tensorflow_under_jax(tmp_path):
    proc = suite_cli(["-c", "import sys; from suite.cli import cli; cli(['list']); "
                            "from suite.report import build; "
                            "build.build('task07', 'tensorflow', 'quick', 'results', sys.argv[1]); "
                            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                            "('tensorflow', 'tensorflow_datasets')))", str(tmp_path)], "jax", module=None)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_a_writeups_rebuild_line_works_from_a_plain_shell(tmp_path):
    """Task01's shipped writeup names `--backend jax`; no KERAS_BACKEND is set in the shell."""
    proc = suite_cli(["task01", "--backend", "jax", "--profile", "quick", "--submission-dir", str(tmp_path)],
                     backend="", module="suite.report")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "Task01_PredictionAnalysis.md").is_file()


def test_report_without_flags_uses_the_one_stored_backend_or_lists_them(tmp_path):
    proc = suite_cli(["task03", "--submission-dir", str(tmp_path)], backend="", module="suite.report")
    assert proc.returncode == 0 and (tmp_path / "Task03_Epochs.md").is_file(), proc.stderr[-2000:]
    proc = suite_cli(["task07", "--submission-dir", str(tmp_path)], backend="", module="suite.report")
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "several backends/profiles" in line and "--backend jax --profile quick" in line
    assert "--backend torch --profile quick" in line and len(line.splitlines()) == 1


def test_your_own_study_runs_from_a_file_and_writes_apart_with_overrides(tmp_path, mnist_available):
    results, sub = tmp_path / "results", tmp_path / "sub"
    args = ["examples/width_study.py", "--profile", "smoke", "--results-dir", str(results), "--submission-dir", str(sub)]
    proc = suite_cli(args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = (sub / "Width_Study.md").read_text()
    assert "## Seed claims" in text and "a wider hidden layer gives higher test accuracy" in text
    records = sorted((results / "width_study" / "jax" / "smoke" / "main").glob("*/seed0.json"))
    assert [p.parent.name for p in records] == ["width256", "width32"]
    import json

    acc = {p.parent.name: json.loads(p.read_text())["metrics"]["test_accuracy"] for p in records}
    assert min(acc.values()) > 0.2  # chance is 0.1: 512 images, one epoch
    proc = suite_cli([*args, "--epochs", "2", "--seeds", "1"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (sub / "custom" / "smoke-epochs2-seeds1" / "Width_Study.md").is_file()
    assert "written apart" in proc.stdout
