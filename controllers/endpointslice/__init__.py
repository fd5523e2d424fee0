"""EndpointSlices for Services: from their pods (controller.py) and mirrored from hand-made
Endpoints (mirroring.py); the slice packing both share is in reconciler.py."""

from controllers.endpointslice.controller import EndpointSliceController
from controllers.endpointslice.mirroring import EndpointSliceMirroringController

__all__ = ["EndpointSliceController", "EndpointSliceMirroringController"]
