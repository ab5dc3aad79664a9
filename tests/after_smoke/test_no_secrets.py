"""A token in the environment never reaches an executed notebook, a log (the runner's, or a job's) or a results.json."""


def test_fake_hf_token_appears_in_no_output(second_run, fake_token):
    _, folder, log = second_run
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in (".ipynb", ".json", ".md", ".txt", ".log", ".out", ".err")]
    assert files, "the second run wrote nothing to search"
    leaks = [str(p) for p in files if fake_token in p.read_text(errors="replace")]
    assert not leaks, f"the token appears in {leaks}"
    assert fake_token not in log
    assert fake_token[3:15] not in log  # not even part of it
