"""The Fedlink hub: governance workflow, linkage engine, extracts, audit, transparency."""
