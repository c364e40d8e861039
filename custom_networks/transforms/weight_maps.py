"""Placeholder: being implemented."""

ContourWeightsd = None
FuzzyBoundaryWeightsd = None
