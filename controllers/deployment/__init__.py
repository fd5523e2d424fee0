"""Deployment controller: rolling and recreate rollouts with revision history (see controller.py)."""

from controllers.deployment.controller import DeploymentController

__all__ = ["DeploymentController"]
