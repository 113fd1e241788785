"""The approved model: what scoring needs — the scaling, the centres with their segments — and the drift bins
of its fit sample, as stored in (and read back from) its run's registry row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from . import features, identity, model
from .segment_options import SegmentOptions


@dataclass
class Model:
    """What scoring needs: the scaling, the centres (model space) with their segments, the drift bins."""

    scaler: features.Scaler
    centers: np.ndarray  # k x features, model space, in segment order
    segments: list[identity.Segment]
    reference: dict[str, dict[str, list[float]]] | None  # None: a run recorded before drift bins existed
    fitted_by_run: str
    fitted_at: datetime
    max_segment_id: int

    @property
    def ids(self) -> np.ndarray:
        return np.array([s.segment_id for s in self.segments])

    def score(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels, distance = model.assign(self.centers, self.scaler.transform(values))
        names = np.array([s.segment_name for s in self.segments], dtype=object)
        return self.ids[labels], names[labels], distance

    @classmethod
    def from_registry(cls, row: dict[str, Any], options: SegmentOptions) -> Model | None:
        """The model of a published run, if it was clustered on `options.features`."""
        scaler, metrics = row.get("scaler") or {}, row.get("metrics") or {}
        if list(scaler.get("features") or []) != list(options.features) or not row.get("centroids"):
            return None
        centroids = sorted(row["centroids"], key=lambda c: c["segment_id"])
        standard = features.Scaler(np.array(scaler["mean"]), np.array(scaler["scale"]))
        centers = np.array([[c["center"][f] for f in options.features] for c in centroids])
        segments = [
            identity.Segment(
                int(c["segment_id"]),
                c["segment_name"],
                c.get("description", ""),
                c.get("suggested_action", ""),
                c.get("profile", ""),
                c["center"],
            )
            for c in centroids
        ]
        return cls(
            scaler=standard,
            centers=np.array([c["center_scaled"] for c in centroids])
            if all("center_scaled" in c for c in centroids)
            else standard.transform(centers),
            segments=segments,
            reference=metrics.get("reference"),
            fitted_by_run=str(metrics.get("fitted_by_run") or row["run_id"]),
            fitted_at=datetime.fromisoformat(str(metrics.get("fitted_at") or row["started_at"])),
            max_segment_id=int(metrics.get("max_segment_id") or max(s.segment_id for s in segments)),
        )
