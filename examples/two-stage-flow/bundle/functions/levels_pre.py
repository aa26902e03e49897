# pre function to_features of stage 'levels': the source of what the .pkl beside this file holds.
def to_features(embedding):
    """Stage 2 pre: the torch output (a tensor) -> the numpy array xgboost expects."""
    return embedding.numpy()
