"""The loss curve of a run: a small table on stdout and ``RUN/loss.png``.

    python -m student.report RUN

The PNG is drawn here (zlib and struct from the standard library), so the venv needs no
plotting package: the loss per step as a line, on a white canvas with axes.
"""
import json
import pathlib
import struct
import sys
import zlib

from .checkpoint import STEP_LOG

WIDTH, HEIGHT, MARGIN = 480, 240, 24


def read_steps(run_dir):
    lines = (pathlib.Path(run_dir) / STEP_LOG).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def table(steps, rows=12):
    """Every k-th step so the table stays about ``rows`` long, plus the last."""
    k = max(1, len(steps) // rows)
    picked = steps[::k] + ([steps[-1]] if (len(steps) - 1) % k else [])
    out = ["step   loss     samples/s"]
    out += [f"{s['step']:>4}   {s['loss']:>7.3f}  {s['samples_per_s']:>8.2f}" for s in picked if s["loss"] is not None]
    tenth = max(1, len(steps) // 10)
    first = sum(s["loss"] for s in steps[:tenth]) / tenth
    last = sum(s["loss"] for s in steps[-tenth:]) / tenth
    out.append(f"loss, mean of the first 10% of steps: {first:.3f}; of the last 10%: {last:.3f}")
    return "\n".join(out)


def png(path, losses):
    pixels = [[255] * WIDTH for _ in range(HEIGHT)]

    def dot(x, y, shade=0):
        if 0 <= x < WIDTH and 0 <= y < HEIGHT:
            pixels[y][x] = shade

    for x in range(MARGIN, WIDTH - MARGIN // 2):
        dot(x, HEIGHT - MARGIN, 120)  # x axis
    for y in range(MARGIN // 2, HEIGHT - MARGIN + 1):
        dot(MARGIN, y, 120)  # y axis
    lo, hi = min(losses), max(losses)
    span = (hi - lo) or 1.0

    def at(i, loss):
        x = MARGIN + round(i * (WIDTH - 1.5 * MARGIN) / max(1, len(losses) - 1))
        y = HEIGHT - MARGIN - round((loss - lo) * (HEIGHT - 1.5 * MARGIN) / span)
        return x, y

    points = [at(i, v) for i, v in enumerate(losses)]
    for (x0, y0), (x1, y1) in zip(points, points[1:] or points):
        n = max(abs(x1 - x0), abs(y1 - y0), 1)
        for t in range(n + 1):
            x, y = x0 + (x1 - x0) * t // n, y0 + (y1 - y0) * t // n
            for dx in (0, 1):
                for dy in (0, 1):
                    dot(x + dx, y + dy)
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pathlib.Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write("usage: python -m student.report RUN_DIR\n")
        return 2
    steps = [s for s in read_steps(argv[0]) if s["loss"] is not None]
    if not steps:
        sys.stderr.write(f"{argv[0]}: no steps logged yet\n")
        return 1
    print(table(steps))
    out = pathlib.Path(argv[0]) / "loss.png"
    png(out, [s["loss"] for s in steps])
    print(f"loss curve: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
