"""tools/model/verify/ort_profile.py: kernel events summed by node as medians over runs."""
import importlib.util
import os
import unittest

_spec = importlib.util.spec_from_file_location(
    "ort_profile", os.path.join(os.path.dirname(__file__), "..", "verify", "ort_profile.py"))
ort_profile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ort_profile)


def kernel(node, op, us):
    return {"cat": "Node", "name": node + "_kernel_time", "dur": us, "args": {"op_name": op}}


class SummariseTest(unittest.TestCase):

    def test_a_node_is_its_median_over_runs_and_only_kernel_events_count(self):
        events = [{"cat": "Session", "name": "model_run", "dur": 900} for _ in range(3)]
        events += [kernel("/lm_head/MatMul", "MatMulNBits", us) for us in (100, 110, 5000)]  # one preempted
        events += [kernel("/concat", "Concat", us) for us in (7, 9, 8)]
        events.append({"cat": "Node", "name": "/concat_fence_before", "dur": 999, "args": {"op_name": "Concat"}})
        nodes, runs = ort_profile.summarise(events)
        self.assertEqual(3, runs)
        self.assertEqual({"/lm_head/MatMul": ("MatMulNBits", 110), "/concat": ("Concat", 8)}, nodes)


if __name__ == "__main__":
    unittest.main()
