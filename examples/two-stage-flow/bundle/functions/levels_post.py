# post function label_readings of stage 'levels': the source of what the .pkl beside this file holds.
# Module-level names pickled with it, as they were: LEVELS.
def label_readings(probabilities, readings):
    """Stage 2 post: the most probable level for each input line, keyed by that line."""
    import numpy as np

    best = np.argmax(probabilities, axis=1)
    # LEVELS is a plain module-level list: it is pickled with the function. A module-level
    # import (numpy as np at the top of this file) would be refused by build_flow instead.
    return {line: LEVELS[int(i)] for line, i in zip(readings, best, strict=True)}
