"""Prints cleanlab's answer on the fixture of src/labels/confident.rs
(`matches_cleanlab_on_a_fixture`). Run: pip install cleanlab; python3 this file."""
import numpy as np
from cleanlab.count import compute_confident_joint, get_confident_thresholds
from cleanlab.filter import find_label_issues

probs = np.array([
    [0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.05, 0.9, 0.05],
    [0.1, 0.1, 0.8], [0.1, 0.2, 0.7], [0.05, 0.05, 0.9],
    [0.85, 0.1, 0.05], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3],
])
labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 1, 0, 2])
print("thresholds", get_confident_thresholds(labels, probs).tolist())
print("joint", compute_confident_joint(labels, probs, calibrate=False).ravel().tolist())
print("calibrated", compute_confident_joint(labels, probs).ravel().tolist())
for f in ["prune_by_noise_rate", "prune_by_class", "both", "confident_learning", "predicted_neq_given"]:
    print(f, np.flatnonzero(find_label_issues(labels, probs, filter_by=f)).tolist())
