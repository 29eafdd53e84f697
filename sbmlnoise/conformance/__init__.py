"""sbmlnoise.conformance
"""



__all__ = []
