// The ten probabilities of a drawing, one bar per digit, the most likely highlighted; empty bars
// when there is no prediction.

export function probabilityBars(container: HTMLElement): (probabilities: readonly number[] | null) => void {
  const rows = Array.from({ length: 10 }, (_, digit) => {
    const row = document.createElement("div");
    row.className = "bar-row";
    row.dataset.digit = String(digit);
    const label = document.createElement("span");
    label.className = "bar-digit";
    label.textContent = String(digit);
    const track = document.createElement("span");
    track.className = "bar-track";
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    track.append(fill);
    const value = document.createElement("span");
    value.className = "bar-value";
    row.append(label, track, value);
    container.append(row);
    return { row, fill, value };
  });
  return (probabilities) => {
    const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
    rows.forEach(({ row, fill, value }, digit) => {
      const p = probabilities?.[digit];
      fill.style.width = p === undefined ? "0" : `${(100 * p).toFixed(1)}%`;
      value.textContent = p === undefined ? "" : `${(100 * p).toFixed(p < 0.1 ? 1 : 0)}%`;
      row.dataset.probability = p === undefined ? "" : String(p);
      row.classList.toggle("best", digit === best);
    });
  };
}
