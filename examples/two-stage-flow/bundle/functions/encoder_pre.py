# pre function parse_readings of stage 'encoder': the source of what the .pkl beside this file holds.
def parse_readings(lines):
    """Stage 1 pre: "cpu,mem,io,net" percent strings -> a float32 array scaled to 0..1."""
    import numpy as np

    rows = [[float(part) for part in line.split(",")] for line in lines]
    return np.asarray(rows, dtype=np.float32) / 100.0
