"""`minigan bench`: it runs, reports a positive time, and counts the iteration's GEMM FLOPs right."""
import json

from minigan.cli import main


def test_bench_mlp_json_and_flop_count(capsys):
    assert main(["bench", "--arch", "mlp", "--rounds", "1", "--backend", "numpy", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["arch"] == "mlp" and result["minigan_ms"] > 0
    n = 64  # 2 x multiply-adds of every Dense, per forward pass
    f_g = 2 * n * (100 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784)
    f_d = 2 * n * (784 * 512 + 512 * 256 + 256 * 1)
    assert abs(result["gflop"] - (8 * f_d + 3 * f_g) / 1e9) < 1e-9
    assert 0 < result["fraction_of_gemm_rate"] and result["gemm_floor_ms"] > 0
    if "torch_ms" in result:
        assert abs(result["ratio"] - result["minigan_ms"] / result["torch_ms"]) < 1e-9
