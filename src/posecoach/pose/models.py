"""BlazePose model files: where they are, which are installed, how to install them.

BlazePose comes in three landmark models of increasing size and accuracy:
``lite``, ``full`` and ``heavy`` (Bazarevsky et al. 2020, "BlazePose: On-device
Real-time Body Pose tracking", arXiv:2006.10204). MediaPipe 0.10.21's wheel ships
only ``pose_landmark_full.tflite`` (and the person detector
``pose_detection.tflite``). Its legacy ``solutions.pose`` looks for
``pose_landmark_lite.tflite`` / ``pose_landmark_heavy.tflite`` in the same folder
(``mediapipe/modules/pose_landmark/``) and otherwise tries to *download* them at
run time, which fails without internet. posecoach never lets that happen: it
checks for the file first and raises :class:`~posecoach.errors.ModelNotFoundError`
with instructions.

Getting lite/heavy without the MediaPipe download: the npm package
``@mediapipe/pose`` contains byte-identical copies of all three models::

    npm pack @mediapipe/pose            # writes mediapipe-pose-<version>.tgz
    posecoach models install mediapipe-pose-<version>.tgz

:func:`install` copies ``.tflite`` files (given directly, found in a folder, or
inside such a ``.tgz``) into MediaPipe's model folder after checking each one is a
TFLite flatbuffer (file identifier ``"TFL3"`` at byte 4, see the TFLite schema,
``tensorflow/lite/schema/schema.fbs``: ``file_identifier "TFL3"``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tarfile
import tempfile
from pathlib import Path

from posecoach.errors import ModelNotFoundError

__all__ = [
    "KNOWN_SHA256",
    "MODEL_NAMES",
    "detector_model_path",
    "file_sha256",
    "find_model",
    "identify_model",
    "install",
    "is_tflite",
    "landmark_file_name",
    "mediapipe_model_dir",
    "status",
]

#: The BlazePose landmark model sizes, smallest first.
MODEL_NAMES: tuple[str, ...] = ("lite", "full", "heavy")

#: SHA-256 of the official landmark models (MediaPipe's files; the npm package
#: ``@mediapipe/pose`` 0.5.1675469404 holds byte-identical copies). Used to tell
#: which model a file is when its name does not say.
KNOWN_SHA256: dict[str, str] = {
    "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61": "lite",
    "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f": "full",
    "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe": "heavy",
}

_TFLITE_MAGIC = b"TFL3"
_HOW_TO_GET = (
    "Get the BlazePose models without the MediaPipe download: run `npm pack @mediapipe/pose` "
    "(it writes mediapipe-pose-<version>.tgz holding byte-identical lite/full/heavy files), then "
    "`posecoach models install mediapipe-pose-<version>.tgz` (a .tflite file or an unpacked "
    "folder works too). Or pass the file directly with --model-path, or use --model full, "
    "which ships with MediaPipe."
)


def _mediapipe_root() -> Path:
    """Folder of the installed ``mediapipe`` package, found without importing it."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.origin:
        raise ModelNotFoundError(
            "MediaPipe is not installed. Install posecoach's dependencies: pip install -e ."
        )
    return Path(spec.origin).parent


def mediapipe_model_dir() -> Path:
    """Folder where MediaPipe's legacy pose solution reads landmark models.

    Returns
    -------
    Path
        ``<site-packages>/mediapipe/modules/pose_landmark``.
    """
    return _mediapipe_root() / "modules" / "pose_landmark"


def detector_model_path() -> Path:
    """Path of the BlazePose person detector shipped in the MediaPipe wheel.

    Raises
    ------
    ModelNotFoundError
        If the MediaPipe installation lacks it.
    """
    path = _mediapipe_root() / "modules" / "pose_detection" / "pose_detection.tflite"
    if not is_tflite(path):
        raise ModelNotFoundError(
            f"the BlazePose person detector {path} is missing or damaged. Reinstall MediaPipe: "
            "pip install --force-reinstall mediapipe==0.10.21"
        )
    return path


def landmark_file_name(model: str) -> str:
    """File name MediaPipe uses for a landmark model (``pose_landmark_<model>.tflite``)."""
    return f"pose_landmark_{_check_name(model)}.tflite"


def _check_name(model: str) -> str:
    if model not in MODEL_NAMES:
        raise ModelNotFoundError(
            f"unknown BlazePose model {model!r}; choose one of {', '.join(MODEL_NAMES)}"
        )
    return model


def is_tflite(path: str | Path) -> bool:
    """Tell whether a file is a TFLite flatbuffer (identifier ``TFL3`` at byte 4).

    Parameters
    ----------
    path : str or Path
        File to check.

    Returns
    -------
    bool
        False for missing, unreadable, too short or non-TFLite files.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[4:8] == _TFLITE_MAGIC


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def identify_model(path: str | Path) -> str | None:
    """Tell which landmark model a file is: by its SHA-256, else by its file name.

    Parameters
    ----------
    path : str or Path
        A ``.tflite`` file.

    Returns
    -------
    str or None
        ``"lite"``, ``"full"`` or ``"heavy"``; None if neither the checksum nor
        the name tells.
    """
    path = Path(path)
    known = KNOWN_SHA256.get(file_sha256(path))
    if known:
        return known
    stem = path.stem.lower()
    hits = [name for name in MODEL_NAMES if name in stem]
    return hits[0] if len(hits) == 1 else None


def find_model(
    model: str = "full", model_path: str | Path | None = None, *, model_dir: str | Path | None = None
) -> Path:
    """Locate a landmark model file, never downloading anything.

    Parameters
    ----------
    model : {"lite", "full", "heavy"}
        Model size.
    model_path : str or Path, optional
        A user-given ``.tflite`` to use instead of the installed copy.
    model_dir : str or Path, optional
        Folder to look in; defaults to :func:`mediapipe_model_dir`.

    Returns
    -------
    Path
        An existing TFLite file.

    Raises
    ------
    ModelNotFoundError
        If the name is unknown, the given file is missing or not TFLite, or the
        model is not installed; the message says how to get it.
    """
    name = landmark_file_name(model)
    if model_path is not None:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelNotFoundError(f"model file not found: {path}. {_HOW_TO_GET}")
        if not is_tflite(path):
            raise ModelNotFoundError(
                f"{path} is not a TFLite model (no 'TFL3' identifier); give a BlazePose "
                f"pose_landmark_{model}.tflite. {_HOW_TO_GET}"
            )
        return path.resolve()
    folder = Path(model_dir) if model_dir is not None else mediapipe_model_dir()
    path = folder / name
    if is_tflite(path):
        return path
    raise ModelNotFoundError(
        f"the BlazePose '{model}' model is not installed (looked for {path}). {_HOW_TO_GET}"
    )


def status(model_dir: str | Path | None = None) -> dict[str, Path | None]:
    """Which landmark models are installed, and where.

    Parameters
    ----------
    model_dir : str or Path, optional
        Folder to look in; defaults to :func:`mediapipe_model_dir`.

    Returns
    -------
    dict
        ``{"lite": Path or None, "full": ..., "heavy": ...}``.
    """
    folder = Path(model_dir) if model_dir is not None else mediapipe_model_dir()
    out: dict[str, Path | None] = {}
    for model in MODEL_NAMES:
        path = folder / landmark_file_name(model)
        out[model] = path if is_tflite(path) else None
    return out


def _collect_sources(source: Path, workdir: Path) -> list[Path]:
    """The ``.tflite`` files a source stands for (a file, a folder, or an npm ``.tgz``)."""
    if source.is_dir():
        found = sorted(p for p in source.rglob("*.tflite") if p.is_file())
        landmark = [p for p in found if p.name.startswith("pose_landmark_")]
        return landmark or found
    if source.name.endswith((".tgz", ".tar.gz", ".tar")):
        try:
            with tarfile.open(source) as tar:
                members = [
                    m for m in tar.getmembers()
                    if m.isfile() and Path(m.name).name.startswith("pose_landmark_")
                    and m.name.endswith(".tflite")
                ]
                out = []
                for member in members:
                    target = workdir / Path(member.name).name
                    with tar.extractfile(member) as src, open(target, "wb") as dst:
                        dst.write(src.read())
                    out.append(target)
                return out
        except (tarfile.TarError, OSError) as exc:
            raise ModelNotFoundError(
                f"{source} cannot be read as a .tgz archive ({exc}). {_HOW_TO_GET}"
            ) from exc
    return [source]


def install(
    source: str | Path, *, model: str | None = None, target_dir: str | Path | None = None
) -> list[Path]:
    """Copy BlazePose landmark models into the folder MediaPipe reads them from.

    Parameters
    ----------
    source : str or Path
        A ``.tflite`` file, a folder holding ``pose_landmark_*.tflite`` files (e.g.
        an unpacked ``@mediapipe/pose`` npm package), or the npm ``.tgz`` itself.
    model : {"lite", "full", "heavy"}, optional
        Which model a single file is, when neither its checksum nor its name says.
    target_dir : str or Path, optional
        Destination; defaults to :func:`mediapipe_model_dir`.

    Returns
    -------
    list of Path
        The installed files (one per model found in ``source``).

    Raises
    ------
    ModelNotFoundError
        If ``source`` is missing, holds no TFLite model, a file is not TFLite,
        its model cannot be identified, or the destination is not writable.
    """
    source = Path(source).expanduser()
    if not source.exists():
        raise ModelNotFoundError(f"{source} does not exist. {_HOW_TO_GET}")
    target = Path(target_dir) if target_dir is not None else mediapipe_model_dir()
    if model is not None:
        _check_name(model)
    installed: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="posecoach-models-") as tmp:
        files = _collect_sources(source, Path(tmp))
        if not files:
            raise ModelNotFoundError(
                f"no pose_landmark_*.tflite file found in {source}. {_HOW_TO_GET}"
            )
        if model is not None and len(files) > 1:
            raise ModelNotFoundError(
                f"{source} holds {len(files)} model files; --model applies to a single file only"
            )
        for path in files:
            if not is_tflite(path):
                raise ModelNotFoundError(
                    f"{path.name} from {source} is not a TFLite model (no 'TFL3' identifier at "
                    f"byte 4); it may be damaged or a Git LFS pointer. {_HOW_TO_GET}"
                )
            name = model or identify_model(path)
            if name is None:
                raise ModelNotFoundError(
                    f"cannot tell whether {path.name} is the lite, full or heavy model; rename it "
                    "pose_landmark_<lite|full|heavy>.tflite or say which with --model"
                )
            installed.append(_copy_into(path, target / landmark_file_name(name)))
    return installed


def _copy_into(src: Path, dest: Path) -> Path:
    """Copy ``src`` to ``dest`` atomically; leave an identical existing file alone."""
    if dest.is_file() and dest.stat().st_size == src.stat().st_size and file_sha256(dest) == file_sha256(src):
        return dest
    if dest.name == landmark_file_name("full") and is_tflite(dest):
        raise ModelNotFoundError(
            f"{dest} (the 'full' model shipped with MediaPipe) differs from {src.name}; posecoach "
            "does not replace it. Use a different full model with --model-path instead."
        )
    tmp_name = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".posecoach-", suffix=".tflite")
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            for block in iter(lambda: inp.read(1 << 20), b""):
                out.write(block)
        os.replace(tmp_name, dest)
    except OSError as exc:
        if tmp_name is not None and os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise ModelNotFoundError(
            f"cannot write {dest} ({exc.strerror or exc}). Install with permission to write to "
            "MediaPipe's folder (e.g. inside your virtual environment), or pass the file with "
            "--model-path instead."
        ) from exc
    return dest
