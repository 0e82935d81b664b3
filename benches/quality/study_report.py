"""results.csv and summary.md: accuracy tables, per-seed wins/ties/losses and the targets."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from study_unit import FULL

FIELDS = ["dataset", "setting", "model", "method", "ratio", "seed", "accuracy", "f_objective",
          "k", "kept_flipped", "smallest_class", "status"]
TIE = 0.001  # |difference| below 0.1 accuracy point counts as a tie


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r[k]) for k in FIELDS})


def pct(r: float) -> str:
    return f"{round(100 * r)}%"


class Table:
    """Accuracy by (dataset, setting, model, method, ratio) → {seed: accuracy}, statuses kept."""

    def __init__(self, rows: list[dict]):
        self.acc = defaultdict(dict)
        self.status = defaultdict(set)
        for r in rows:
            k = (r["dataset"], r["setting"], r["model"], r["method"], r["ratio"])
            if r["status"] == "ok":
                self.acc[k][r["seed"]] = r["accuracy"]
            else:
                self.status[k].add(r["status"])

    def mean(self, *k) -> float:
        v = list(self.acc.get(k, {}).values())
        return float(np.mean(v)) if v else math.nan

    def cell(self, *k) -> str:
        v = list(self.acc.get(k, {}).values())
        if not v:
            return "n/a"
        s = float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
        return f"{100 * np.mean(v):.2f} ± {100 * s:.2f}"

    def paired(self, a: tuple, b: tuple) -> tuple[int, int, int] | None:
        """Seeds where a beats / ties / loses to b (same split and seed); None if none shared."""
        sa, sb = self.acc.get(a, {}), self.acc.get(b, {})
        d = [sa[s] - sb[s] for s in sorted(set(sa) & set(sb))]
        if not d:
            return None
        return (sum(x >= TIE for x in d), sum(abs(x) < TIE for x in d), sum(x <= -TIE for x in d))


def aum_section(metas: list[dict]) -> list[str]:
    lines = ["## Training dynamics and AUM", "",
             "Mean over seeds. Train accuracy of dynamics model 0 on the labels as given after "
             "the last epoch; AUM (raw, `score --kind aum --raw`) < 0 marks a sample the model "
             "ranks another class above its given label on average over the epochs.", "",
             "| dataset | setting | n train | flipped | smallest class | dyn. train acc "
             "(3 models) | AUM<0 among flipped | AUM<0 among clean |",
             "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |"]
    groups = defaultdict(list)
    for m in metas:
        groups[m["dataset"], m["setting"]].append(m)
    for (ds, st), ms in groups.items():
        f = lambda key: np.mean([m[key] for m in ms])
        tr = " / ".join(f"{100 * np.mean([m['train_acc'][i] for m in ms]):.1f}"
                        for i in range(len(ms[0]["train_acc"])))
        fl = [m["aum_neg_flipped"] for m in ms if m["aum_neg_flipped"] is not None]
        fl_s = f"{100 * np.mean(fl):.1f}%" if fl else "–"
        lines.append(f"| {ds} | {st} | {f('n_train'):.0f} | {f('flipped'):.0f} | "
                     f"{f('smallest_class'):.0f} | {tr} | {fl_s} | {100 * f('aum_neg_clean'):.1f}% |")
    return lines + [""]


def targets(t: Table, ds, st, model, methods, ratios) -> list[tuple[str, bool, str]]:
    """(what, met, numbers) for one dataset × setting × model."""
    out = []
    key = lambda m, r: (ds, st, model, m, r)
    baselines = [m.name for m in methods if m.kind == "baseline"]
    for dm in (m.name for m in methods if m.kind == "default"):
        misses, refused = [], False
        for r in ratios:
            a = t.mean(*key(dm, r))
            if math.isnan(a):
                refused = True
                continue
            above = [(t.mean(*key(b, r)), b) for b in baselines]
            above = sorted((v, b) for v, b in above if not math.isnan(v) and a < v)
            if above:
                v, b = above[-1]
                misses.append(f"{pct(r)}: {100 * a:.2f} < {100 * v:.2f} {b}"
                              + (f" and {len(above) - 1} more" if len(above) > 1 else ""))
        ok = not misses and not refused
        nums = "n/a (refused)" if refused else ("; ".join(misses) if misses else "all ratios")
        out.append((f"{dm} ≥ every baseline at every ratio", ok, nums))
        if 0.9 in ratios and "random" in baselines:
            a, rd = t.mean(*key(dm, 0.9)), t.mean(*key("random", 0.9))
            out.append((f"{dm} ≥ random + 1 at 90%", not math.isnan(a) and a >= rd + 0.01,
                        f"{100 * a:.2f} vs {100 * rd:.2f} + 1"))
    names = {m.name for m in methods}
    sims = next((m.name for m in methods if m.key == "sims"), None)
    checks = []
    if sims and "random" in names:
        checks.append((sims, list(ratios), "every ratio"))
    if "ccs" in names and "random" in names:
        checks.append(("ccs", [r for r in ratios if r >= 0.7 - 1e-9], "70–90%"))
    for m, rs, where in checks:
        vals = [(r, t.mean(*key(m, r)), t.mean(*key("random", r))) for r in rs]
        ok = all(not math.isnan(a) and a >= b for _, a, b in vals)
        out.append((f"{m} ≥ random at {where}", ok,
                    ", ".join(f"{pct(r)} {100 * a:.2f} vs {100 * b:.2f}" for r, a, b in vals)))
    return out


def write_summary(path: Path, rows: list[dict], metas: list[dict], methods, ratios, datasets,
                  settings, models, header: list[str]) -> list[str]:
    t = Table(rows)
    names = [m.name for m in methods]
    lines = ["# Quality study", "", *header, ""]
    lines += aum_section(metas)

    lines += ["## Compact: mean test accuracy (%) per ratio " + "/".join(pct(r) for r in ratios), ""]
    for ds in datasets:
        for st in settings:
            lines += [f"**{ds} / {st}**", "", "| method | " + " | ".join(models) + " |",
                      "| --- | " + " | ".join("---" for _ in models) + " |"]
            full = " | ".join(f"{100 * t.mean(ds, st, mo, FULL, 0.0):.1f}" for mo in models)
            lines.append(f"| {FULL} | {full} |")
            for n in names:
                cells = [" / ".join("n/a" if math.isnan(v := t.mean(ds, st, mo, n, r))
                                    else f"{100 * v:.1f}" for r in ratios) for mo in models]
                lines.append(f"| {n} | " + " | ".join(cells) + " |")
            lines.append("")

    all_targets = []
    lines += ["## Accuracy tables", "",
              "Test accuracy (%, mean ± std over seeds) of the model trained on the kept subset; "
              "columns are pruning ratios; best mean per column in bold. Rows marked (variant) "
              "use documented options, the same at every ratio; the targets use the default rows.",
              ""]
    defaults = [m.name for m in methods if m.kind == "default"]
    baselines = [m.name for m in methods if m.kind == "baseline"]
    for ds in datasets:
        for st in settings:
            for mo in models:
                lines += [f"### {ds} / {st} / {mo}", "",
                          "| method | " + " | ".join(pct(r) for r in ratios) + " |",
                          "| --- | " + " | ".join("---:" for _ in ratios) + " |"]
                best = {r: max((round(100 * t.mean(ds, st, mo, n, r), 2) for n in names
                                if not math.isnan(t.mean(ds, st, mo, n, r))), default=None)
                        for r in ratios}
                notes = {}
                for n in names:
                    cells = []
                    for r in ratios:
                        c = t.cell(ds, st, mo, n, r)
                        m = t.mean(ds, st, mo, n, r)
                        if not math.isnan(m) and round(100 * m, 2) == best[r]:
                            c = f"**{c}**"
                        if t.status.get((ds, st, mo, n, r)):
                            notes[n] = sorted(t.status[ds, st, mo, n, r])
                            c += " †" if c != "n/a" else "†"
                        cells.append(c)
                    lines.append(f"| {n} | " + " | ".join(cells) + " |")
                lines += ["", f"{FULL}: {t.cell(ds, st, mo, FULL, 0.0)}.", ""]
                for n, st_msgs in notes.items():
                    lines.append(f"† {n}: " + "; ".join(st_msgs))
                if notes:
                    lines.append("")
                if defaults and baselines:
                    lines += ["Per seed, default vs baseline: wins / ties / losses "
                              f"(tie = |diff| < {100 * TIE:.1f} point).", "",
                              "| default | vs | " + " | ".join(pct(r) for r in ratios) + " |",
                              "| --- | --- | " + " | ".join("---:" for _ in ratios) + " |"]
                    for dm in defaults:
                        for b in baselines:
                            cells = []
                            for r in ratios:
                                p = t.paired((ds, st, mo, dm, r), (ds, st, mo, b, r))
                                cells.append("n/a" if p is None else "{} / {} / {}".format(*p))
                            lines.append(f"| {dm} | {b} | " + " | ".join(cells) + " |")
                    lines.append("")
                for what, ok, nums in targets(t, ds, st, mo, methods, ratios):
                    all_targets.append((f"{ds} / {st} / {mo}", what, ok, nums))

    lines += ["## Targets", "", "On the means over seeds; \"baseline\" = random, topk, ccs, sims, "
              "semdedup, moderate, greedy (whichever ran).", ""]
    for where, what, ok, nums in all_targets:
        lines.append(f"- {where}: {what}: **{'met' if ok else 'missed'}** ({nums})")
    met = sum(x[2] for x in all_targets)
    lines += ["", f"{met} of {len(all_targets)} targets met.", ""]
    path.write_text("\n".join(lines) + "\n")
    return lines
