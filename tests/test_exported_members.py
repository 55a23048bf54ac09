"""The public API is exactly what ``lookalike.__all__`` lists; a change here is deliberate."""

import lookalike

EXPECTED = {
    "Column",
    "Kind",
    "LookalikeError",
    "Schema",
    "Synthesizer",
    "__version__",
    "available",
    "describe_synthesizer",
    "fit",
    "get_synthesizer",
    "infer_schema",
    "load_demo",
    "load_synthesizer",
    "query",
    "read_table",
    "sample_spark",
    "sample_to_file",
    "synthesize",
    "write_table",
}


def test_all_is_exactly_the_public_api():
    assert set(lookalike.__all__) == EXPECTED


def test_every_exported_name_exists_and_is_documented():
    for name in lookalike.__all__:
        obj = getattr(lookalike, name)
        if name != "__version__":
            assert obj.__doc__, f"lookalike.{name} has no docstring"


def test_no_torch_on_import():
    """``import lookalike`` (and the CLI) pull no torch: checked in a fresh interpreter, since
    other tests in this worker may have imported it."""
    import subprocess
    import sys

    code = "import sys, lookalike, lookalike.cli, lookalike.audit; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
