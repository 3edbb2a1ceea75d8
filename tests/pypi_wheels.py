"""Real wheels from PyPI at pinned versions and sha256, for the tests of other platforms
than this host's (Linux aarch64, musllinux, Windows arm64, free-threaded).

Downloaded and checked by tests/pypi_files.py (cached, its sha256 checked on every use).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from pypi_files import PypiFile, pypi_file

_FILES = "https://files.pythonhosted.org/packages/"


@dataclass(frozen=True)
class PinnedWheel:
    path: str  # under files.pythonhosted.org/packages/, ending in the file name
    sha256: str

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def project(self) -> str:
        return self.filename.split("-", 1)[0]


def _pin(path: str, sha256: str) -> PinnedWheel:
    return PinnedWheel(path, sha256)


_AARCH64 = "manylinux2014_aarch64.manylinux_2_17_aarch64"
# markupsafe (setuptools C), msgpack (Cython), bcrypt (PyO3, abi3 and cp314t).
WHEELS: tuple[PinnedWheel, ...] = (
    _pin(f"9a/a8/73a81135e85ba66217f5af7facb03bbb386807e1a729ab64532e4c802652/markupsafe-3.0.4-cp314-cp314-{_AARCH64}.manylinux_2_28_aarch64.whl",
         "1caa2fa5a6184fb233153b35f654e6687bd555476f6170f29d8ee9be1a8b0af9"),
    _pin("b4/b0/b505e8a361ba557dbf3b3aa7331ea39b00d2022a26e925ff8463b9714bb3/markupsafe-3.0.4-cp314-cp314-musllinux_1_2_x86_64.whl",
         "0d9c47709875fdb321452056622e930c52afbc07a7d780762fbb8b4d91ce6fa4"),
    _pin("5f/cf/3d074a8edffcc6899355232ff2543ae8d929733239596423b7db79698bc9/markupsafe-3.0.4-cp314-cp314-win_arm64.whl",
         "7e1636da3d8dfc220b6dd10264db5f2b165e4888c4518594898fbe381049af8a"),
    _pin(f"ee/51/4326c88a13c7b755657d44b4bb986f8c3d9843ecba7e22d98661d87f9a57/markupsafe-3.0.4-cp314-cp314t-{_AARCH64}.manylinux_2_28_aarch64.whl",
         "e916035e3e9930cbdfdd10abf48861340221857f45509565898e012263f7b289"),
    _pin("c6/61/ebda1307864b409e6b3115757a3d4a09cca46cfb6cc65191b5de226b424b/markupsafe-3.0.4-cp314-cp314t-musllinux_1_2_x86_64.whl",
         "a9f54054101545a9a9cccefddf54316aa6e4491611fcbef9e91b3b6bebec04f6"),
    _pin("93/63/da554b4c97a6b0ea3229ca7fe8cbfb620be81613d517f482e85958550537/markupsafe-3.0.4-cp314-cp314t-win_arm64.whl",
         "eba154571c16e032112afac0dc2dfe9e63c2ceb7aedd07bb7eecf2ce26d4dd4c"),
    _pin(f"2e/58/5516cabb60da83506024015c669622a0277979aef51eb611308cebaf4cc9/msgpack-1.2.4-cp314-cp314-{_AARCH64}.manylinux_2_28_aarch64.whl",
         "2444a4e04f924630d059ae6eae8f91fdfcd28ed9fd17b21bacf4e74550a091f7"),
    _pin("55/8e/4493bef4422730cfd3420b84094652fabd27ef8aadc8b443a8995b524d08/msgpack-1.2.4-cp314-cp314-musllinux_1_2_x86_64.whl",
         "f60de6ae13d4d2a12a483f15c5e47cb6fa2731aa32d92fb31178e2017d6574a8"),
    _pin("93/e4/1b0eb49887009dc2c530171d659cf2aa37202b5f79c0b784e63777554b37/msgpack-1.2.4-cp314-cp314-win_arm64.whl",
         "e5f67f0286f2ba2c6dbb4998404ed880112ca204ceda729cf239879cd89d3acf"),
    _pin(f"2c/dd/dbae250b23b831cd0571eb664089f80de3249a39e98c6ef55f9a0efe928d/msgpack-1.2.4-cp314-cp314t-{_AARCH64}.manylinux_2_28_aarch64.whl",
         "0bef691e2a95119cc6bf3ded29325dbd89c4b6f8ff233070431948ed70902421"),
    _pin("ac/8b/2af9bf378def33c24875f250421b0d0b1b06f72a1c2c3f964749fc4cdee1/msgpack-1.2.4-cp314-cp314t-musllinux_1_2_x86_64.whl",
         "2b597bb01aff61d65e305c2cf2589c93c86609929d42d575bfc359f3c54ea8e1"),
    _pin("41/52/1390514aee47d14ca3fe6ea0cf236fddc55021867ace30daf8761deba36f/msgpack-1.2.4-cp314-cp314t-win_arm64.whl",
         "f3f19fe5decd348b35b003ae5f32d3fa90877413a0183da676f748a3a7ab9270"),
    _pin(f"ac/ee/2f4985dbad090ace5ad1f7dd8ff94477fe089b5fab2040bd784a3d5f187b/bcrypt-5.0.0-cp39-abi3-{_AARCH64}.whl",
         "ddb4e1500f6efdd402218ffe34d040a1196c072e07929b9820f363a1fd1f4191"),
    _pin("df/d2/36a086dee1473b14276cd6ea7f61aef3b2648710b5d7f1c9e032c29b859f/bcrypt-5.0.0-cp39-abi3-musllinux_1_2_x86_64.whl",
         "61afc381250c3182d9078551e3ac3a41da14154fbff647ddf52a769f588c4172"),
    # musl has no symbol versions: auditwheel cannot tell 1.1 from 1.2 by the binary.
    _pin("89/48/44590e3fc158620f680a978aafe8f87a4c4320da81ed11552f0323aa9a57/bcrypt-5.0.0-cp39-abi3-musllinux_1_1_aarch64.whl",
         "db99dca3b1fdc3db87d7c57eac0c82281242d1eabf19dcb8a6b10eb29a2e72d1"),
    _pin("27/44/d2ef5e87509158ad2187f4dd0852df80695bb1ee0cfe0a684727b01a69e0/bcrypt-5.0.0-cp39-abi3-win_arm64.whl",
         "f2347d3534e76bf50bca5500989d6c1d05ed64b440408057a37673282c654927"),
    _pin(f"67/49/dd074d831f00e589537e07a0725cf0e220d1f0d5d8e85ad5bbff251c45aa/bcrypt-5.0.0-cp314-cp314t-{_AARCH64}.whl",
         "48f753100931605686f74e27a7b49238122aa761a9aefe9373265b8b7aa43ea4"),
    _pin("c9/f2/ea64e51a65e56ae7a8a4ec236c2bfbdd4b23008abd50ac33fbb2d1d15424/bcrypt-5.0.0-cp314-cp314t-musllinux_1_2_x86_64.whl",
         "0cae4cb350934dfd74c020525eeae0a5f79257e8a201c0c176f4b84fdbf2a4b4"),
    _pin("3e/89/4b01c52ae0c1a681d4021e5dd3e45b111a8fb47254a274fa9a378d8d834b/bcrypt-5.0.0-cp314-cp314t-win_arm64.whl",
         "dd19cf5184a90c873009244586396a6a884d591a5323f0e8a5922560718d4993"),
)  # fmt: skip

# Built on glibc 2.34 (it uses GLIBC_2.34 symbols) and tagged so: the source of a bad copy.
GLIBC_2_34_AARCH64 = _pin(
    "ac/31/79f11865f8078e192847d2cb526e3fa27c200933c982c5b2869720fa5fce/bcrypt-5.0.0-cp39-abi3-manylinux_2_34_aarch64.whl",
    "edfcdcedd0d0f05850c52ba3127b1fce70b9f89e0fe5ff16517df7e81fa3cbb8",
)  # fmt: skip


def by_project(project: str) -> tuple[PinnedWheel, ...]:
    return tuple(w for w in WHEELS if w.project == project)


def fetch(wheel: PinnedWheel) -> Path:
    """The wheel's path in the cache, downloaded if it is not there; its sha256 checked."""
    return pypi_file(PypiFile(_FILES + wheel.path, wheel.sha256))


def copy_wheels(wheels: tuple[PinnedWheel, ...] | list[PinnedWheel], dist: Path) -> list[Path]:
    """The wheels copied into ``dist`` (made if needed), as a release's dist dir holds them."""
    dist.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(fetch(w), dist / w.filename)) for w in wheels]
