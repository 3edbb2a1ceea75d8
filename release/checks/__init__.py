"""validate's checks, one module each, named as users see them in the output.

Each is a :class:`~.base.Check`: a name, which distributions it applies to, and a run that
turns them into findings. ``REGISTRY`` is the order validate runs and reports them in.
"""

from __future__ import annotations

from .abi3 import Abi3Check
from .abi_tags import AbiTagsCheck
from .base import Check, CheckContext
from .build_record import BuildRecordCheck
from .integrity import Integrity
from .macos_dylibs import MacosDylibsCheck
from .manylinux import ManylinuxCheck
from .metadata import MetadataCheck
from .pypi_tags import PypiTagsCheck
from .regression import RegressionCheck
from .version import VersionCheck
from .wheel_set import WheelSetCheck
from .windows_dlls import WindowsDllsCheck

REGISTRY: tuple[Check, ...] = (
    Integrity(),
    VersionCheck(),
    BuildRecordCheck(),
    WheelSetCheck(),
    RegressionCheck(),
    PypiTagsCheck(),
    MetadataCheck(),
    WindowsDllsCheck(),
    MacosDylibsCheck(),
    ManylinuxCheck(),
    Abi3Check(),
    AbiTagsCheck(),
)

__all__ = ["REGISTRY", "Check", "CheckContext"]
