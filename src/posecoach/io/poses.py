"""Save and load the pose dataset (NetCDF-4) and export it as CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from posecoach import dataset
from posecoach.errors import PoseDataError

_JSON_PREFIX = "json:"


def _encode_attrs(attrs: dict) -> dict:
    """NetCDF attributes hold numbers and strings only; store the rest as JSON text."""
    out = {}
    for key, value in attrs.items():
        if isinstance(value, (str, int, float, np.integer, np.floating)) and not isinstance(value, bool):
            out[key] = value
        else:
            out[key] = _JSON_PREFIX + json.dumps(value)
    return out


def _decode_attrs(attrs: dict) -> dict:
    out = {}
    for key, value in attrs.items():
        if isinstance(value, str) and value.startswith(_JSON_PREFIX):
            out[key] = json.loads(value[len(_JSON_PREFIX) :])
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def save_poses(ds: xr.Dataset, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a pose dataset to a NetCDF-4 file (``.nc``), losslessly.

    Parameters
    ----------
    ds : xarray.Dataset
        A valid pose dataset.
    path : str or Path
        Destination file; ``.nc`` is the conventional suffix.
    overwrite : bool
        Replace an existing file. Off by default: nothing the user made is
        overwritten silently.

    Returns
    -------
    Path
        The written path.
    """
    dataset.validate(ds)
    path = Path(path)
    if path.exists() and not overwrite:
        raise PoseDataError(f"{path} already exists; choose another name or pass overwrite=True")
    path.parent.mkdir(parents=True, exist_ok=True)
    out = ds.copy()
    out.attrs = _encode_attrs(ds.attrs)
    for name in out.variables:
        out[name].attrs = _encode_attrs(out[name].attrs)
    # a checksum on every numeric array: a damaged file fails to read instead of giving
    # keypoints at (0, 0) with the confidence they had (HDF5's Fletcher-32 filter)
    # (chunked by time only: a frame's values stay together)
    encoding = {
        name: {"fletcher32": True,
               "chunksizes": tuple(min(n, 4096) if d == "time" else n
                                   for d, n in zip(var.dims, var.shape, strict=True))}
        for name, var in out.variables.items()
        if var.ndim and var.size and np.issubdtype(var.dtype, np.number)
    }
    tmp = path.with_name(path.name + ".partial")
    out.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    tmp.replace(path)
    return path


def load_poses(path: str | Path) -> xr.Dataset:
    """Read a pose dataset written by :func:`save_poses`.

    Raises
    ------
    PoseDataError
        If the file is missing or is not a posecoach pose dataset.
    """
    path = Path(path)
    if not path.is_file():
        raise PoseDataError(f"pose file not found: {path}")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as f:
            ds = f.load()
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not our file"
        if "filter returned failure" in str(exc):
            raise PoseDataError(
                f"{path} is damaged: its checksum does not match what `posecoach pose` wrote (the "
                "file was changed or cut since); run `posecoach pose` on the video again"
            ) from exc
        raise PoseDataError(
            f"{path} is not a readable pose dataset (NetCDF-4 written by `posecoach pose`): {exc}. "
            "If it is one that was cut short (an interrupted copy or download), copy it again, "
            "or run `posecoach pose` on the video again"
        ) from exc
    missing = [c for c in ("keypoint", "space") if c not in ds.coords]
    if missing:
        raise PoseDataError(
            f"{path} is not a pose dataset written by `posecoach pose` (it has no "
            f"{' or '.join(missing)} coordinate); give a video or a poses.nc from posecoach"
        )
    try:
        ds.attrs = _decode_attrs(ds.attrs)
        for name in ds.variables:
            ds[name].attrs = _decode_attrs(ds[name].attrs)
    except ValueError as exc:  # a damaged JSON attribute
        raise PoseDataError(f"{path}: an attribute of the pose dataset is damaged ({exc})") from exc
    if isinstance(ds.attrs.get("warnings"), str):  # one note, written as text by another tool
        ds.attrs["warnings"] = [ds.attrs["warnings"]]
    ds = ds.assign_coords(keypoint=[str(k) for k in ds["keypoint"].values],
                          space=[str(s) for s in ds["space"].values])
    try:
        return dataset.validate(ds)
    except PoseDataError as exc:
        raise PoseDataError(f"{path}: {exc}") from exc


def to_dataframe(ds: xr.Dataset) -> pd.DataFrame:
    """Flatten a pose dataset to one row per frame.

    Columns: ``frame``, ``time_s``, then ``<keypoint>_x_px``, ``<keypoint>_y_px``
    and ``<keypoint>_confidence`` for every keypoint.
    """
    pos = ds["position"].values
    conf = ds["confidence"].values
    cols: dict[str, np.ndarray] = {
        "frame": ds["frame"].values,
        "time_s": ds["time"].values,
    }
    for k, name in enumerate(ds["keypoint"].values):
        cols[f"{name}_x_px"] = pos[:, k, 0]
        cols[f"{name}_y_px"] = pos[:, k, 1]
        cols[f"{name}_confidence"] = conf[:, k]
    return pd.DataFrame(cols)


def export_csv(ds: xr.Dataset, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the pose dataset as a wide CSV (see :func:`to_dataframe`).

    Frames as integers, every other value with 4 decimals, an empty field where a value
    is missing: what ``DataFrame.to_csv(index=False, float_format="%.4f")`` writes, but
    formatted a row at a time (pandas formats value by value: ~10x slower, 0.27 s per
    1,000 frames, a minute for an hour at 60 fps).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise PoseDataError(f"{path} already exists; choose another name or pass overwrite=True")
    path.parent.mkdir(parents=True, exist_ok=True)
    df = to_dataframe(ds)
    values = df.drop(columns="frame").to_numpy(dtype=float)
    row = ",".join(["%d"] + ["%.4f"] * values.shape[1])
    with path.open("w", newline="") as f:
        f.write(",".join(df.columns) + "\n")
        for frame, vals in zip(df["frame"].to_numpy(), values, strict=True):
            # "nan" cannot appear in a formatted number, only as a missing value
            f.write((row % (frame, *vals)).replace("nan", "") + "\n")
    return path
