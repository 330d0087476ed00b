"""A robustness report: one metric, clean and under each attack at each severity, as a table and a bar chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw

from pixel.text_table import markdown_table

from .attacks import severity_label

BAR_COLOURS = ((158, 202, 225), (66, 146, 198), (8, 69, 148), (8, 48, 107))
CLEAN_COLOUR = (214, 39, 40)


@dataclass
class RobustnessReport:
    """``clean``: metrics on the unchanged data; ``attacked[attack][severity]``: metrics on the attacked copy;
    ``summaries[attack][severity]``: what the attack did (AttackSummary.describe())."""

    task: str
    data: str
    metric: str
    seed: int
    clean: dict[str, float]
    attacked: dict[str, dict[float, dict[str, float]]] = field(default_factory=dict)
    summaries: dict[str, dict[float, str]] = field(default_factory=dict)

    @property
    def severities(self) -> list[float]:
        return sorted({s for by_severity in self.attacked.values() for s in by_severity})

    def table(self) -> str:
        """A Markdown table of ``metric``: one row per attack, columns clean and each severity."""
        rows = []
        for attack, by_severity in self.attacked.items():
            cells = [f"{by_severity[s][self.metric]:.4g}" if s in by_severity else "" for s in self.severities]
            rows.append([attack, f"{self.clean[self.metric]:.4g}", *cells])
        return markdown_table(["attack", "clean", *(severity_label(s) for s in self.severities)], rows)

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "data": self.data, "metric": self.metric, "seed": self.seed,
                "clean": self.clean,
                "attacked": {a: {f"{s:g}": m for s, m in by.items()} for a, by in self.attacked.items()},
                "summaries": {a: {f"{s:g}": t for s, t in by.items()} for a, by in self.summaries.items()}}


def main_metric(primary: str, metrics: dict[str, float]) -> str:
    """The task's primary metric when the metrics have it (regression reports pearson instead)."""
    for name in (primary, "pearson"):
        if name in metrics:
            return name
    return sorted(metrics)[0]


def bar_chart(report: RobustnessReport) -> Image.Image:
    """Grouped bars: per attack one bar per severity, the clean score as a red line across the plot. The y axis
    spans the scores with a margin (it starts above 0 when they are close together: the subtitle says so)."""
    from pixel.viz import caption_font

    severities = report.severities
    values = [report.clean[report.metric]] + [m[report.metric] for by in report.attacked.values() for m in by.values()]
    scale = 100.0 if max(values) > 1 else 1.0
    margin = max((max(values) - min(values)) * 0.5, 0.02 * scale)
    y_lo = max(min(values) - margin, 0.0) if min(values) >= 0 else min(values) - margin
    y_hi = min(max(values) + margin, scale) if max(values) <= scale else max(values)
    bar, group_gap = 18, 28
    group = bar * len(severities) + group_gap
    left, top, bottom_margin, right_margin = 64, 56, 40, 150
    plot_height = 260
    width = left + group * len(report.attacked) + right_margin
    height = top + plot_height + bottom_margin
    font = caption_font(12)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    bottom, right = top + plot_height, width - right_margin

    def y_of(value: float) -> float:
        return bottom - (value - y_lo) / (y_hi - y_lo) * plot_height

    for step in range(6):
        value = y_lo + step * (y_hi - y_lo) / 5
        draw.line([(left, y_of(value)), (right, y_of(value))], fill=(230, 230, 230))
        draw.text((6, y_of(value) - 7), f"{value:.3g}", fill=(60, 60, 60), font=font)
    for index, (attack, by_severity) in enumerate(report.attacked.items()):
        x0 = left + group_gap // 2 + index * group
        for k, severity in enumerate(severities):
            if severity in by_severity:
                x = x0 + k * bar
                y = y_of(by_severity[severity][report.metric])
                base = y_of(max(y_lo, min(0.0, y_hi)))
                draw.rectangle([x, min(y, base), x + bar - 3, max(y, base)],
                               fill=BAR_COLOURS[min(k, len(BAR_COLOURS) - 1)])
        label_width = draw.textlength(attack, font=font)
        draw.text((x0 + (bar * len(severities) - label_width) / 2, bottom + 6), attack, fill=(0, 0, 0), font=font)
    clean_y = y_of(report.clean[report.metric])
    draw.line([(left, clean_y), (right, clean_y)], fill=CLEAN_COLOUR, width=2)
    draw.rectangle([left, top, right, bottom], outline=(0, 0, 0))
    draw.text((left, 10), f"{report.task}: {report.metric} on {report.data}", fill=(0, 0, 0), font=font)
    axis = f"; y axis from {y_lo:.3g}" if y_lo > 0 else ""
    draw.text((left, 28), f"clean {report.clean[report.metric]:.4g} (red line) vs attacked copies, seed "
                          f"{report.seed}{axis}", fill=(60, 60, 60), font=font)
    legend_x = right + 16
    draw.line([(legend_x, top + 7), (legend_x + 20, top + 7)], fill=CLEAN_COLOUR, width=2)
    draw.text((legend_x + 26, top), "clean", fill=(0, 0, 0), font=font)
    for k, severity in enumerate(severities):
        y = top + 20 * (k + 1)
        draw.rectangle([legend_x, y, legend_x + 20, y + 12], fill=BAR_COLOURS[min(k, len(BAR_COLOURS) - 1)])
        draw.text((legend_x + 26, y), f"severity {severity_label(severity)}", fill=(0, 0, 0), font=font)
    return image
