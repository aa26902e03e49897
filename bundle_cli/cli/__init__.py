"""The typer layer: options in, one core call, rendering out. The only place that exits."""
