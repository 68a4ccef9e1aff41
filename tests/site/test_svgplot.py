"""Server-drawn charts: tick labels that stay distinct, the optional legend."""

from mofsim_site.svgplot import Series, line_svg, nice_ticks, tick_labels


def test_tick_labels_keep_neighbours_distinct_on_large_values():
    assert tick_labels(nice_ticks(-1234.5, -1234.4)) == [
        "-1234.50",
        "-1234.48",
        "-1234.46",
        "-1234.44",
        "-1234.42",
        "-1234.40",
    ]
    assert tick_labels(nice_ticks(16700, 17200)) == ["16700", "16800", "16900", "17000", "17100", "17200"]
    assert tick_labels([-1e-17, 0.2, 0.4]) == ["0.0", "0.2", "0.4"]  # no "-0.0" from round-off


def test_the_legend_can_be_left_to_the_page():
    series = [Series("a", [(0, 1), (1, 2)]), Series("b", [(0, 2), (1, 1)])]
    assert 'class="legend"' in line_svg(series, "x (s)", "y (m)")
    assert 'class="legend"' not in line_svg(series, "x (s)", "y (m)", legend=False)


def test_a_span_just_over_a_round_step_still_gets_three_ticks():
    assert nice_ticks(-0.004, 0.064) == [0.0, 0.02, 0.04, 0.06]
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
