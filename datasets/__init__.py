"""Data bundled with tsrnn, installed as ``tsrnn._bundled``; load it with :mod:`tsrnn.datasets`."""
