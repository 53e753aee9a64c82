"""How a run meets the process: the Singer output, stop requests and signals."""
