"""Learning on graphs, importable without the server: export + feature processing, models
(RGCN, KGE), samplers (neighbour, LABOR, GNS), training with HPO, and inference.
``graphml`` never imports ``server``."""
