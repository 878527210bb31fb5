"""Reading and writing pose datasets, and importing other tools' files.

- :func:`save_poses` / :func:`load_poses`: lossless round trip through NetCDF-4
  (HDF5; open, self-describing, readable by xarray, netCDF4, h5py, MATLAB, R).
- :func:`export_csv`: a plain, wide CSV (one row per frame) for spreadsheets.
"""

from posecoach.io.poses import export_csv, load_poses, save_poses

__all__ = ["export_csv", "load_poses", "save_poses"]
