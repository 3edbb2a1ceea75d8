"""The local Sigstore the tests sign against: the rehearsal's own
(:mod:`release.publish.local_sigstore`), which lives in release/ because ``publish --dry-run``
uses it outside the tests. The tests reach it here, beside the other emulators."""

from release.publish.local_sigstore import *  # noqa: F403
