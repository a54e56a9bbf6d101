"""Polygon.io / Massive adapter: REST and flat-file history into the catalog, the live WebSocket
data client, and a local feed server that replays a catalog day over Polygon's protocol."""
