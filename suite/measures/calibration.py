"""What a classifier's softmax outputs say: confidence, margins, calibration, and their summaries.

Everything here works on NumPy arrays of predicted probabilities `probs` (N, classes) and
integer labels `y` (N,), and returns compact summaries (histogram counts, bin statistics,
scalars) that fit in a result record, never per-sample arrays.

Expected calibration error (Guo et al., 2017): the test points are binned by confidence
(the top probability) into equal-width bins; ECE = sum over bins of (bin size / N) *
|accuracy in bin - mean confidence in bin|.
"""

import numpy as np

ECE_BINS = 15
# Bins of log10(1 - confidence): resolve the confidences above 0.99 where most answers sit.
DOUBT_EDGES = np.arange(-8.0, 0.01, 0.5)


def confidence(probs):
    """Top probability of each row."""
    return np.asarray(probs).max(axis=-1)


def top2_margin(scores):
    """Difference between the largest and second-largest entry of each row (probabilities or logits)."""
    top = np.sort(np.asarray(scores), axis=-1)[:, -2:]
    return top[:, 1] - top[:, 0]


def entropy(probs):
    """Shannon entropy (nats) of each row."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=-1)


def reliability(probs, y, bins=ECE_BINS):
    """Equal-width confidence bins over [0, 1]: counts, accuracy and mean confidence per bin.

    Returns:
        `dict(edges, count, accuracy, confidence)`, lists of length `bins` (+1 for edges);
        accuracy and confidence are NaN in empty bins.

    Example:
        >>> p = np.array([[0.9, 0.1], [0.6, 0.4]]); reliability(p, np.array([0, 1]), bins=2)["count"]
        [0, 2]
    """
    conf = confidence(probs)
    correct = np.asarray(probs).argmax(axis=-1) == np.asarray(y)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)  # bin i holds (e_i, e_i+1]
    count = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore"):
        acc = np.bincount(idx, weights=correct, minlength=bins) / count
        mean_conf = np.bincount(idx, weights=conf, minlength=bins) / count
    return {"edges": edges.tolist(), "count": count.tolist(), "accuracy": acc.tolist(),
            "confidence": mean_conf.tolist()}


def ece(probs, y, bins=ECE_BINS):
    """Expected calibration error with `bins` equal-width confidence bins (a number in [0, 1])."""
    r = reliability(probs, y, bins)
    count = np.array(r["count"], dtype=float)
    gap = np.abs(np.nan_to_num(np.array(r["accuracy"]) - np.array(r["confidence"])))
    return float((count * gap).sum() / count.sum())


def auroc(scores, positive):
    """Area under the ROC curve of `scores` for telling `positive` (bool) from the rest.

    Ties count one half (the Mann-Whitney statistic); NaN if either class is empty.
    """
    scores, positive = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def histogram(values, edges):
    """Counts of `values` in the bins given by `edges` (values outside are clipped into the end bins)."""
    edges = np.asarray(edges, dtype=float)
    return np.histogram(np.clip(values, edges[0], edges[-1]), edges)[0].tolist()


def summarize(probs, y, logits=None, edges=None):
    """Confidence, margin, entropy, calibration (and logit) statistics, split by right and wrong.

    Args:
        probs: predicted probabilities (N, classes).
        y: integer labels (N,).
        logits: the pre-softmax scores (N, classes), or `None`.
        edges: confidence histogram bin edges. Defaults to 20 equal bins over [0, 1].

    Returns:
        A flat dict of scalars (`accuracy`, `ece`, `nll`, `overconfidence` (mean confidence
        minus accuracy), `mean_confidence_right`, `..._wrong`, `margin_*`, `entropy_*`,
        `logit_*`, `auroc_confidence`: how well confidence tells right from wrong) and the
        compact arrays `reliability`, `confidence_hist_right|wrong`, `margin_hist_right|wrong`
        (over `hist_edges`) and `doubt_hist_right|wrong` (log10(1 - confidence), over
        `doubt_edges`; values below 1e-8 are counted in the first bin).
    """
    probs, y = np.asarray(probs, dtype=np.float64), np.asarray(y)
    edges = np.linspace(0, 1, 21) if edges is None else np.asarray(edges)
    conf, margin, ent = confidence(probs), top2_margin(probs), entropy(probs)
    right = probs.argmax(-1) == y
    out = {
        "accuracy": float(right.mean()),
        "ece": ece(probs, y),
        "nll": float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1)).mean()),
        "overconfidence": float(conf.mean() - right.mean()),
        "auroc_confidence": auroc(conf, right),
        "n_wrong": int((~right).sum()),
        "reliability": reliability(probs, y),
        "hist_edges": edges.tolist(),
        "doubt_edges": DOUBT_EDGES.tolist(),
    }
    for name, mask in (("right", right), ("wrong", ~right)):
        any_ = mask.any()
        out[f"mean_confidence_{name}"] = float(conf[mask].mean()) if any_ else float("nan")
        out[f"median_confidence_{name}"] = float(np.median(conf[mask])) if any_ else float("nan")
        out[f"frac_confidence_above_0.99_{name}"] = float((conf[mask] > 0.99).mean()) if any_ else float("nan")
        out[f"mean_margin_{name}"] = float(margin[mask].mean()) if any_ else float("nan")
        out[f"mean_entropy_{name}"] = float(ent[mask].mean()) if any_ else float("nan")
        out[f"confidence_hist_{name}"] = histogram(conf[mask], edges)
        out[f"margin_hist_{name}"] = histogram(margin[mask], edges)
        out[f"doubt_hist_{name}"] = histogram(np.log10(np.clip(1 - conf[mask], 1e-8, 1)), DOUBT_EDGES)
        if logits is not None:
            lg = np.asarray(logits, dtype=np.float64)[mask]
            out[f"logit_max_{name}"] = float(lg.max(-1).mean()) if any_ else float("nan")
            out[f"logit_margin_{name}"] = float(top2_margin(lg).mean()) if any_ else float("nan")
            out[f"logit_std_{name}"] = float(lg.std(-1).mean()) if any_ else float("nan")
    return out


def extremes(probs, y, k=8, scores=None):
    """Test indices of the `k` least and most confident answers and the `k` most confident wrong ones.

    Args:
        probs: predicted probabilities (N, classes).
        y: integer labels (N,).
        k: answers per list. Defaults to `8`.
        scores: per-answer confidence used for ranking, e.g. the top-2 logit margin, which keeps
            ordering answers whose float32 top probability has saturated at 1.0. Defaults to
            the top probability.

    Returns:
        `dict(least_confident=[...], most_confident=[...], most_confident_wrong=[...])`, each a
        list of `dict(index, label, prediction, confidence, score)`, most extreme first.
    """
    probs, y = np.asarray(probs), np.asarray(y)
    conf, pred = confidence(probs), probs.argmax(-1)
    score = conf if scores is None else np.asarray(scores, dtype=float)

    def rows(idx):
        return [{"index": int(i), "label": int(y[i]), "prediction": int(pred[i]), "confidence": float(conf[i]),
                 "score": float(score[i])} for i in idx]

    wrong = np.flatnonzero(pred != y)
    return {
        "least_confident": rows(np.argsort(score, kind="stable")[:k]),
        "most_confident": rows(np.argsort(-score, kind="stable")[:k]),
        "most_confident_wrong": rows(wrong[np.argsort(-score[wrong], kind="stable")][:k]),
    }
