// llama.cpp through node-llama-cpp (its prebuilt CPU binary, never built here): one repetition of every
// measure of the peer benchmark on a GGUF, prompts given as token ids (tools/bench/peers.sh writes them).
//   node llama.mjs MODEL.gguf PROMPTS.json [THREADS]   → one JSON object on stdout
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {scenarios} from "./scenarios.mjs";

const [modelPath, promptsPath, threadsArg] = process.argv.slice(2);
const prompts = JSON.parse(readFileSync(promptsPath, "utf8"));
const threads = Number(threadsArg ?? 2);

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const single = await model.createContext({contextSize: 4096, threads, sequences: 1});
const sequence = single.getSequence();

/** Greedy; the prompt reuses the longest prefix the sequence already holds (all but its last token at most,
 *  whose logits are needed), as llama.cpp's server does. Returns timings and the generated ids. */
async function generate(seq, prompt, maxTokens) {
    const start = performance.now();
    let reused = Math.min(seq.compareContextTokens(prompt).firstDifferentIndex, prompt.length - 1);
    if (seq.nextTokenIndex > reused) {
        await seq.eraseContextTokenRanges([{start: reused, end: seq.nextTokenIndex}]);
    }
    const ids = [];
    const times = [];
    for await (const token of seq.evaluate(prompt.slice(reused), {temperature: 0})) {
        ids.push(token);
        times.push(performance.now());
        if (ids.length >= maxTokens) break;
    }
    return {ids, reused, firstTokenS: (times[0] - start) / 1000, times};
}

const result = await scenarios({
    engine: "llama.cpp",
    prompts,
    generate: (prompt, maxTokens) => generate(sequence, prompt, maxTokens),
    clear: () => sequence.clearHistory(),
    clients: async (clientPrompts, maxTokens) => {
        const context = await model.createContext({contextSize: 4096, threads, sequences: clientPrompts.length});
        try {
            const start = performance.now();
            const runs = await Promise.all(clientPrompts.map(p => generate(context.getSequence(), p, maxTokens)));
            return {tokens: runs.reduce((n, r) => n + r.ids.length, 0), wallS: (performance.now() - start) / 1000};
        } finally {
            await context.dispose();
        }
    },
});
console.log(JSON.stringify(result));
await single.dispose();
await model.dispose();
