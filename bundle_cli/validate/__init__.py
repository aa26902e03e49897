"""Static checks of a bundle: config, model code, files and examples, without importing the model."""
