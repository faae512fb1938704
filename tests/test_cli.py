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
