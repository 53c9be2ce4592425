"""kla-analysis: evidence-backed analysis of the KLA (Kota Layak Anak) evaluation."""

__version__ = "0.1.0"
