"""Float64 numpy reference engine for BPTT: forward and backward passes, forward mode, truncation.

Nothing here imports Flask. Every function takes and returns plain float64 arrays whose shapes are
stated in its docstring, so exercises can build answers and misconception variants from it.
"""
