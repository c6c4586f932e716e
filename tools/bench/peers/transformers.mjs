// transformers.js (ONNX Runtime for Node, CPU) on the same ONNX export kvshare serves: the measures of one
// repetition that it can run. Local files only: nothing is fetched from a model hub.
//   node transformers.mjs MODEL_ROOT MODEL_NAME PROMPTS.json [THREADS]   → one JSON object on stdout
// MODEL_ROOT/MODEL_NAME holds config.json, generation_config.json and onnx/model.onnx (+ its external data):
// transformers.js's layout; tools/bench/peer_bench.py links the export's files there.
// It keeps no cache between calls, so the reuse measures (same prompt again, turn 2) and concurrent clients
// are not run: every call prefills its whole prompt.
import {readFileSync} from "node:fs";
import {AutoModelForCausalLM, BaseStreamer, env, Tensor} from "@huggingface/transformers";
import {scenarios} from "./scenarios.mjs";

const [root, name, promptsPath, threadsArg] = process.argv.slice(2);
const prompts = JSON.parse(readFileSync(promptsPath, "utf8"));
const threads = Number(threadsArg ?? 2);

env.allowRemoteModels = false;
env.localModelPath = root;
const model = await AutoModelForCausalLM.from_pretrained(name, {
    local_files_only: true, dtype: "fp32", device: "cpu",
    session_options: {intraOpNumThreads: threads, interOpNumThreads: 1},
});

/** Records when each generated token arrives (the first put is the prompt). */
class Clock extends BaseStreamer {
    times = [];
    prompt = true;

    put() {
        if (this.prompt) {
            this.prompt = false;
        } else {
            this.times.push(performance.now());
        }
    }

    end() {
    }
}

async function generate(prompt, maxTokens) {
    const ids = BigInt64Array.from(prompt, BigInt);
    const clock = new Clock();
    const start = performance.now();
    const output = await model.generate({
        input_ids: new Tensor("int64", ids, [1, ids.length]),
        attention_mask: new Tensor("int64", new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
        max_new_tokens: maxTokens, min_new_tokens: maxTokens, do_sample: false, streamer: clock,
    });
    const generated = Array.from(output.data.slice(ids.length), Number);
    return {ids: generated, reused: 0, firstTokenS: (clock.times[0] - start) / 1000, times: clock.times};
}

const result = await scenarios({engine: "transformers.js", prompts, generate, clear: async () => {}, reuse: false});
console.log(JSON.stringify(result));
