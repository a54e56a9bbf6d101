"""The venue simulator's pure core: order structs, the matching engine and replayed market liquidity.

``catalog_feed`` is the only module here that imports NautilusTrader (to read a catalog day).
"""
