"""The served resources live in `apimachinery.resources` (clients need the table too);
this name stays so the API server's modules read naturally."""

from apimachinery.resources import (  # noqa: F401
    BY_GROUP_VERSION_PLURAL,
    BY_KIND,
    RESOURCES,
    SCALE,
    VERBS,
    ResourceInfo,
    Subresource,
    group_versions,
    lookup,
)
