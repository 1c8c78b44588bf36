import subprocess
import sys


def test_library_never_imports_typer_and_import_tsrnn_stays_light():
    code = (
        "import sys, pkgutil, importlib, tsrnn\n"
        "light = not {'torch', 'statsmodels', 'matplotlib', 'typer'} & set(sys.modules)\n"
        "for m in pkgutil.walk_packages(tsrnn.__path__, 'tsrnn.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(light, 'typer' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]
