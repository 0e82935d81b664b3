"""quality_MODEL.png: one panel per dataset × setting, accuracy vs pruning ratio per method."""

from __future__ import annotations

import math
from pathlib import Path

from study_report import Table
from study_unit import FULL


def plot(path: Path, rows, methods, ratios, datasets, settings, model: str, seeds: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = Table(rows)
    legend_rows = math.ceil((len(methods) + 1) / 4)
    legend_in = 0.6 + 0.2 * legend_rows  # inches below the panels for the shared legend
    height = 3.2 * len(datasets) + 0.5 + legend_in
    fig, axes = plt.subplots(len(datasets), len(settings), squeeze=False, dpi=90,
                             figsize=(3.6 * len(settings), height))
    xs = [100 * r for r in ratios]
    base_colors = iter(f"C{i}" for i in (0, 1, 2, 4, 5, 6, 7, 8, 9) * 3)
    styles = {}
    for m in methods:
        if m.kind == "default":
            styles[m.name] = dict(lw=2.4, marker="o", color="C3",
                                  ls="-" if m.key == "infomax-scores" else "--")
        elif m.kind == "baseline":
            styles[m.name] = dict(lw=1.3, marker="s", ms=4, color=next(base_colors))
        elif m.kind == "extra":
            styles[m.name] = dict(lw=1.6, marker="^", ls="-.", color=next(base_colors))
        else:
            styles[m.name] = dict(lw=0.9, marker=".", ls=":", color=next(base_colors), alpha=0.8)
    for i, ds in enumerate(datasets):
        for j, st in enumerate(settings):
            ax = axes[i][j]
            full = t.mean(ds, st, model, FULL, 0.0)
            if not math.isnan(full):
                ax.axhline(100 * full, color="black", ls="--", lw=1, label=FULL)
            shown = []
            for m in methods:
                ys = [100 * t.mean(ds, st, model, m.name, r) for r in ratios]
                if all(math.isnan(y) for y in ys):
                    continue
                ax.plot(xs, ys, label=m.name, **styles[m.name])
                shown += [y for y in ys if not math.isnan(y)]
            title = f"{ds} / {st}"
            if shown:
                # A method that collapses (e.g. top-k keeping only mislabeled samples) would
                # squash every other line; clip the axis a little below the 10th percentile.
                lo = max(min(shown), sorted(shown)[len(shown) // 10] - 5)
                hi = max(shown + [100 * full if not math.isnan(full) else 0])
                if lo > min(shown):
                    title += f" (y from {lo:.0f}%)"
                ax.set_ylim(lo - 0.5, hi + 0.5)
            ax.set_title(title, fontsize=10)
            ax.set_xticks(xs)
            ax.grid(alpha=0.3)
            if i == len(datasets) - 1:
                ax.set_xlabel("pruning ratio (%)")
            if j == 0:
                ax.set_ylabel(f"test accuracy (%), {model}")
    handles, labels = {}, []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    fig.legend([handles[x] for x in labels], labels, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle(f"Accuracy of the {model} model trained on the kept subset "
                 f"(mean over {seeds} seeds)", fontsize=11)
    fig.tight_layout(rect=(0, legend_in / height, 1, 1 - 0.35 / height))
    fig.savefig(path)
    plt.close(fig)
