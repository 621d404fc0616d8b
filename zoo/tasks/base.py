"""What every task defines: its headline number, its results table and how an exported file's
metric change is read. One subclass per task, one module each (zoo/tasks/*.py)."""

INT8_BUDGET_POINTS = 0.5  # the largest loss (points of the task metric) an exported file may have without a note


class Task:
    """A kind of model. `headline_key` is the metric `zoo eval` compares with the card;
    `check_keys` the card's quick reproduction on CHECK_EXAMPLES test examples; `change_key`
    the export cell's task-metric change (None: outputs compared by `parity_key` only)."""

    name = ""
    summary = ""
    headline_key = ""
    check_keys = ()
    change_key = None
    change_unit = "pt"
    parity_key = "parity_max_abs_diff"

    def headline(self, metrics):
        """The one number a card is ranked by, as text."""
        raise NotImplementedError

    def card_headline(self, record):
        """The headline of a card's measured metrics, or "not evaluated"."""
        return self.headline(record["metrics"]) if record.get("metrics") else "not evaluated"

    def input_spec(self, model):
        """The card's input spec of `model`: name -> shape (batch first, None = any), dtype and
        value range (or vocabulary)."""
        raise NotImplementedError

    def table(self, dataset, records):
        """The results table's header lines for `records` of `dataset` (all of this task)."""
        raise NotImplementedError

    def row(self, record):
        """The results table's row for one record."""
        raise NotImplementedError

    def beyond_budget(self, change):
        """Whether an exported file's metric change is a loss beyond the budget."""
        return change < -INT8_BUDGET_POINTS

    def export_change(self, cell):
        """(the export cell's task-metric change as text, whether it is a loss beyond the budget)."""
        if self.change_key is not None and self.change_key in cell:
            value = cell[self.change_key]
            text = f"{value:+.4f} {self.change_unit}" if self.change_unit == "BPC" else f"{value:+.2f} {self.change_unit}"
            return text, self.beyond_budget(value)
        if self.parity_key == "max_abs_log_prob_diff":
            return f"max Δ log p {cell[self.parity_key]:.0e}", False
        return f"max Δ {cell[self.parity_key]:.0e}", False


def trained(record):
    """The results table's 'parameters | epochs | train time |' cells."""
    return f"{record['parameters']:,} | {record['training']['epochs']} | {record['training']['seconds'] / 60:.0f} min |"


def examples(records):
    return (records[0].get("metrics") or {}).get("examples", "?")


def fp32_cell(record):
    return (record.get("export") or {}).get("tflite_fp32")
