#!/usr/bin/env python3
"""Reading a 512×512×120 CT DICOM series side by side, like for like: adamss-io
(`examples/dicom_read_timing`, `Volume::<f32>::read(folder)`) and SimpleITK's
`ImageSeriesReader` (`GetGDCMSeriesFileNames`, then `Execute` as float32) alternating in one
run, one thread each (ITK's global thread count 1 and the process pinned to one core, since
GDCM's JPEG 2000 decoder starts a thread per core; our decoders are single-threaded), warm (each
side's second read of a round), on the same folders: uncompressed, RLE Lossless, JPEG Lossless
SV1 and JPEG 2000 lossless. Both sides do the same work: find the folder's files, order them
along the slice normal, decode, rescale to float32. Prints each round, min and median,
per-round ratios and the machine's load.

    cargo build --release --example dicom_read_timing
    .venv/bin/python tools/ab_dicom_read.py [ROUNDS]

The series (target/bench-data/ab/dicom/, written once): a seeded smooth phantom with noise,
signed 16 bits, slope 1, intercept −1024, written by pydicom and transcoded by GDCM (in a
child process: python-gdcm and SimpleITK must not share one).
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "target" / "bench-data" / "ab" / "dicom"
EXE = ROOT / "target" / "release" / "examples" / "dicom_read_timing"
SHAPE = (120, 512, 512)  # slices, rows, columns
SYNTAXES = {"rle": "RLELossless", "jpegll": "JPEGLosslessProcess14_1", "j2k": "JPEG2000Lossless"}


def write_raw(folder):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True)
    rng = np.random.default_rng(20261207)
    z, y, x = np.mgrid[0:SHAPE[0], 0:SHAPE[1], 0:SHAPE[2]].astype(np.float32)
    body = ((y - 256) ** 2 / 200 ** 2 + (x - 256) ** 2 / 170 ** 2) < 1
    hu = np.where(body, 40 + 30 * np.sin(x / 17) * np.cos(y / 23 + z / 9), -1000)
    hu = (hu + rng.normal(0, 12, SHAPE)).round().astype(np.int16) + 1024
    series, study = generate_uid(entropy_srcs=["ab series"]), generate_uid(entropy_srcs=["ab study"])
    for k in range(SHAPE[0]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["ab", str(k)])
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.PatientID, ds.InstanceNumber = "CT", "ab", k + 1
        ds.StudyDate, ds.StudyTime = "20261207", "120000"
        ds.ImagePositionPatient = [-250.0, -250.0, 2.5 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.98, 0.98]
        ds.Rows, ds.Columns = SHAPE[1], SHAPE[2]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = "1", "-1024"
        ds.PixelData = hu[k].tobytes()
        ds.save_as(folder / f"{k:04d}.dcm", enforce_file_format=True)


def transcode(src, dst, name):
    import gdcm

    dst.mkdir(parents=True)
    for f in sorted(src.iterdir()):
        reader = gdcm.ImageReader()
        reader.SetFileName(str(f))
        assert reader.Read(), f
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(getattr(gdcm.TransferSyntax, name)))
        change.SetInput(reader.GetImage())
        assert change.Change(), f
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(dst / f.name))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        assert writer.Write(), f


def ours(folder):
    out = subprocess.run([str(EXE), str(folder), "2"], check=True, capture_output=True, text=True)
    return float(out.stdout.splitlines()[-1].split()[1])  # the warm (second) read


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--transcode":
        transcode(DATA / "raw", DATA / sys.argv[2], SYNTAXES[sys.argv[2]])
        return
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if not (DATA / "raw").exists():
        write_raw(DATA / "raw")
    for kind in SYNTAXES:
        if not (DATA / kind).exists():
            subprocess.run([sys.executable, __file__, "--transcode", kind], check=True)
    import SimpleITK as sitk

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    # GDCM's JPEG 2000 codec decodes with a thread per core whatever ITK's count says (3.5 s of
    # CPU in 1.96 s on two cores, measured): the process (and our child) is pinned to one core.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"pinned to CPU {os.sched_getaffinity(0)}")

    def sitk_read(folder):
        files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder))
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(files)
        reader.SetOutputPixelType(sitk.sitkFloat32)
        return sitk.GetArrayViewFromImage(reader.Execute())

    kinds = ["raw", *SYNTAXES]
    mb = {k: sum(f.stat().st_size for f in (DATA / k).iterdir()) / 1e6 for k in kinds}
    print(f"series {SHAPE[2]}×{SHAPE[1]}×{SHAPE[0]}: " + ", ".join(f"{k} {v:.1f} MB" for k, v in mb.items()))
    print(f"load before: {os.getloadavg()}")
    for k in kinds:  # warm-up, and the same voxels on both sides
        a = np.asarray(sitk_read(DATA / k))
        assert a.shape == SHAPE, (k, a.shape)
        ours(DATA / k)
    times = {(k, side): [] for k in kinds for side in ("SimpleITK", "ours")}
    for r in range(rounds):
        for k in kinds:
            sitk_read(DATA / k)
            t0 = time.perf_counter()
            sitk_read(DATA / k)
            times[(k, "SimpleITK")].append(time.perf_counter() - t0)
            times[(k, "ours")].append(ours(DATA / k))
        print(f"round {r}: " + "  ".join(f"{k}/{s} {v[-1]:.3f}" for (k, s), v in times.items()))
    for (k, s), v in times.items():
        print(f"{k:7s} {s:9s} min {min(v):.3f} s  median {statistics.median(v):.3f} s")
    for k in kinds:
        ratios = [u / w for u, w in zip(times[(k, "SimpleITK")], times[(k, "ours")])]
        print(f"{k}: SimpleITK / ours per round  min {min(ratios):.2f}x  median {statistics.median(ratios):.2f}x")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
