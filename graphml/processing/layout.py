"""The file names of a processing output folder (see :mod:`graphml.processing.processed` for what
each holds). A module of its own so that the server can name them without importing torch."""

GRAPH_FILE = "graph.bin"
IDS_FILE = "id-maps.json"
META_FILE = "meta.json"
ENCODERS_FILE = "encoders.pkl"
CONFIG_FILE = "training-data-configuration.json"
