"""Vector basemaps from OpenStreetMap data: `.osm.pbf` extracts (pyosmium) and GeoJSON files.

The one home of pyosmium. Qt-free: it reads extracts and GeoJSON into compact numpy arrays
of classified streets and areas (`VectorData`), caches them by content hash in the user's
cache folder, and is used by the site loader (buildings as occluders), the map views
(drawing) and the simulator (the street network).
"""
