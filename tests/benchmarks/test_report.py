"""Report metrics on hand-made task records (no database): the numbers the paper compares."""

import pytest

from tasks_app.benchmarks import report, table


def record(name, status="COMPLETED", result=None, reference=None, n_atoms=10, input_volume=100.0):
    return {
        "task_id": name,
        "structure": name,
        "n_atoms": n_atoms,
        "input_volume_a3": input_volume,
        "reference": reference or {},
        "status": status,
        "result": result,
        "error": "" if status == "COMPLETED" else "boom",
        "wall_time_s": 2.0,
        "progress_step": 0,
    }


def opt_result(final_volume, converged=True, steps=10, rate=None, device="cpu", gpu=""):
    return {
        "converged": converged,
        "steps": steps,
        "final_energy_ev": -1.5,
        "initial": {"volume_a3": 100.0},
        "final": {"volume_a3": final_volume},
        "volume_change_pct": final_volume - 100.0,
        "provenance": {"wall_time_s": 4.0, "atom_steps_per_s": rate, "device": device, "gpu_name": gpu},
    }


def test_it_counts_the_share_within_ten_percent_of_the_dft_volume():
    rows = report.build_rows(
        [
            record("a", result=opt_result(105.0), reference={"dft_volume": 100.0}),  # +5 %: within
            record("b", result=opt_result(89.0), reference={"dft_volume": 100.0}),  # -11 %: outside
            record("c", result=opt_result(110.0), reference={"dft_volume": 100.0}),  # +10 %: boundary, within
            record("d", status="FAILED", reference={"dft_volume": 100.0}),  # failure counts as outside
            record("e", status="RUNNING", reference={"dft_volume": 100.0}),  # not finished: not counted
            record("f", result=opt_result(150.0)),  # no DFT reference: not counted
        ]
    )
    volume = report.summarize(rows, "optimization")["volume"]
    assert volume["n"] == 4
    assert volume["within_10pct"] == 2
    assert volume["share_within_10pct"] == pytest.approx(0.5)
    assert volume["n_missing"] == 1
    assert volume["mae_pct"] == pytest.approx((5 + 11 + 10) / 3)
    assert rows[1]["volume_vs_dft_pct"] == pytest.approx(-11.0)


def test_it_prefers_the_executors_own_volume_vs_dft():
    result = {**opt_result(105.0), "volume_vs_dft_pct": -3.0, "rmsd_to_dft_a": 0.12}
    row = report.build_row(record("a", result=result, reference={"dft_volume": 100.0}))
    assert row["volume_vs_dft_pct"] == -3.0
    assert row["rmsd_to_dft_a"] == 0.12


def test_it_excludes_unstable_eos_fits_from_the_b0_errors():
    def b0(value, stable):
        return {"b0_gpa": value, "eos_stable": stable, "steps": 5}

    rows = report.build_rows(
        [
            record("mof5", result=b0(18.0, True), reference={"dft_b0_gpa": 16.0}),  # +2
            record("uio", result=b0(33.0, True), reference={"dft_b0_gpa": 37.5}),  # -4.5
            record("bad", result=b0(400.0, False), reference={"dft_b0_gpa": 10.0}),  # excluded
            record("noref", result=b0(20.0, True)),  # no DFT: not counted
        ]
    )
    b0_summary = report.summarize(rows, "bulk_modulus")["bulk_modulus"]
    assert b0_summary["n"] == 2
    assert b0_summary["excluded_unstable"] == 1
    assert b0_summary["mae_gpa"] == pytest.approx((2 + 4.5) / 2)
    assert b0_summary["mape_pct"] == pytest.approx((2 / 16 + 4.5 / 37.5) / 2 * 100)
    assert b0_summary["rmse_gpa"] == pytest.approx(((4 + 20.25) / 2) ** 0.5)
    assert rows[0]["b0_error_gpa"] == pytest.approx(2.0)


def test_it_computes_the_heat_capacity_mae():
    rows = report.build_rows(
        [
            record("x", result={"cv300_j_per_g_k": 0.80}, reference={"dft_cv300_j_per_g_k": 0.75}),
            record("y", result={"cv300_j_per_g_k": 0.70}, reference={"dft_cv300_j_per_g_k": 0.90}),
            record("z", result={"cv300_j_per_g_k": 0.70}),
        ]
    )
    cv = report.summarize(rows, "heat_capacity")["heat_capacity"]
    assert cv["n"] == 2
    assert cv["mae"] == pytest.approx(0.125)


def test_it_counts_unstable_and_failed_md_as_stability_failures():
    rows = report.build_rows(
        [
            record("ok", result={"stable": True, "volume_change_pct": 2.0}),
            record("swells", result={"stable": False, "volume_change_pct": 40.0}),
            record("explodes", status="FAILED"),
            record("waiting", status="QUEUED"),
        ]
    )
    st = report.summarize(rows, "stability")["stability"]
    assert (st["n"], st["stable"], st["unstable"], st["failed"], st["failures"]) == (3, 1, 1, 1, 2)
    assert st["mean_abs_volume_change_pct"] == pytest.approx(21.0)


def test_it_leaves_sections_without_data_empty_and_shows_dashes():
    rows = report.build_rows([record("a", result={"energy_ev": -3.0}), record("b", status="QUEUED")])
    summary = report.summarize(rows, "single_point")
    assert summary["volume"] is None and summary["bulk_modulus"] is None
    assert summary["heat_capacity"] is None and summary["stability"] is None
    assert rows[0]["final_energy_ev"] == -3.0
    cells = table.format_row(rows[1], table.columns_for("single_point", rows))
    assert cells[0] == "b" and cells[2] == "QUEUED"
    assert cells[3] == report.DASH and cells[4] == report.DASH
    assert report.run_state(summary) == "RUNNING"


def test_it_reports_counts_speed_and_devices():
    rows = report.build_rows(
        [
            record("a", result=opt_result(101.0, rate=100.0, device="cuda", gpu="NVIDIA H200")),
            record("b", result=opt_result(99.0, converged=False, rate=300.0)),
            record("c", result=opt_result(99.0, rate=200.0)),
            record("d", status="TIMEOUT"),
        ]
    )
    summary = report.summarize(rows, "optimization")
    assert (summary["completed"], summary["failed"], summary["converged"], summary["not_converged"]) == (3, 1, 2, 1)
    assert summary["speed"]["median_atom_steps_per_s"] == 200.0
    assert summary["speed"]["devices"] == ["NVIDIA H200", "cpu"]
    assert summary["speed"]["total_wall_time_s"] == pytest.approx(4.0 * 3 + 2.0)
    assert report.run_state(summary) == "PARTIAL"
    # No structure has a DFT volume, so there is no volume comparison (rather than a fake 0 %).
    assert summary["volume"] is None


def test_it_compares_runs_structure_by_structure():
    def entry(name, rows):
        rows = report.build_rows(rows)
        return {"run": {"id": name}, "rows": rows, "summary": report.summarize(rows, "bulk_modulus")}

    a = entry("A", [record("s1", result={"b0_gpa": 10.0}, reference={"dft_b0_gpa": 11.0}), record("s2", "FAILED")])
    b = entry("B", [record("s2", result={"b0_gpa": 20.0}), record("s3", result={"b0_gpa": 30.0})])
    out = report.compare("bulk_modulus", [a, b])
    assert out["metric"] == "b0_gpa"
    assert [s["structure"] for s in out["structures"]] == ["s1", "s2", "s3"]
    assert out["structures"][0]["values"] == [10.0, None] and out["structures"][0]["reference"] == 11.0
    assert out["structures"][1]["statuses"] == ["FAILED", "COMPLETED"]
    assert out["same_structures"] is False


def test_the_csv_has_raw_values_and_empty_cells_for_missing():
    rows = report.build_rows([record("a", result=opt_result(105.0), reference={"dft_volume": 100.0}), record("b")])
    text = table.csv_text(rows, "optimization").splitlines()
    header = text[0].split(",")
    first = dict(zip(header, text[1].split(","), strict=True))
    assert float(first["volume_vs_dft_pct"]) == pytest.approx(5.0) and first["structure"] == "a"
    second = dict(zip(header, text[2].split(","), strict=True))
    assert second["final_energy_ev"] == ""


def test_it_reads_the_executors_nested_keys():
    """The executors nest the DFT comparison (``dft``) and relaxation (``relax``); ``unstable`` negates."""
    opt = report.build_row(
        record("o", result={**opt_result(103.0), "dft": {"volume_vs_dft_pct": 2.5, "rmsd_final_to_dft_a": 0.3}})
    )
    assert (opt["volume_vs_dft_pct"], opt["rmsd_to_dft_a"]) == (2.5, 0.3)
    bm = report.build_row(
        record(
            "b",
            result={
                "relax": {"converged": True, "steps": 7, "final_energy_ev": -9.0},
                "relaxed_volume_a3": 95.0,
                "b0_gpa": 50.0,
                "unstable": True,
                "dft_b0_gpa": 20.0,
            },
            reference={"dft_volume": 100.0},
        )
    )
    assert bm["eos_stable"] is False and bm["converged"] is True and bm["final_energy_ev"] == -9.0
    assert bm["dft_b0_gpa"] == 20.0 and bm["volume_vs_dft_pct"] == pytest.approx(-5.0)
    assert bm["volume_change_pct"] == pytest.approx(-5.0)  # vs the 100 Å³ input
    assert report.summarize([bm], "bulk_modulus")["bulk_modulus"] == {
        "n": 0,
        "excluded_unstable": 1,
        "mae_gpa": None,
        "mape_pct": None,
        "rmse_gpa": None,
    }


def test_it_shows_a_dft_reference_column_only_next_to_its_prediction():
    rows = report.build_rows([record("a", result=opt_result(101.0), reference={"dft_b0_gpa": 16.0})])
    keys = [c.key for c in table.columns_for("optimization", rows)]
    assert "dft_b0_gpa" not in keys and "volume_vs_dft_pct" in keys
    rows = report.build_rows([record("a", result={"b0_gpa": 15.0}, reference={"dft_b0_gpa": 16.0})])
    assert {"b0_gpa", "dft_b0_gpa"} <= {c.key for c in table.columns_for("single_point", rows)}
