// The measures of the peer benchmark, the same for every engine script: each engine supplies
// generate(promptIds, maxTokens) → {ids, reused, firstTokenS, times (ms, one per generated token)},
// clear() (forget what the engine holds) and, where it can run them, concurrent clients.
// PROMPTS.json (tools/bench/peer_bench.py writes it): {short, long, turn1, message, clients: [...],
// decodeTokens, replyTokens, clientTokens}.

/** One repetition of every measure; the fields left out are the ones the engine cannot run. */
export async function scenarios({engine, prompts, generate, clear, clients, reuse = true}) {
    const out = {engine};
    await generate(prompts.short.slice(0, 8), 2); // warm-up: threads, first-touch of the weights
    await clear();

    const decode = await generate(prompts.short, prompts.decodeTokens);
    out.decodeIds = decode.ids;
    out.decodeTokS = (decode.ids.length - 1) / ((decode.times.at(-1) - decode.times[0]) / 1000);
    await clear();

    out.prefillS = (await generate(prompts.long, 1)).firstTokenS;
    out.prefillTokens = prompts.long.length;
    if (reuse) {
        const again = await generate(prompts.long, 1);
        out.repeatS = again.firstTokenS;
        out.repeatReused = again.reused;
        await clear();

        const turn1 = await generate(prompts.turn1, prompts.replyTokens);
        const turn2Prompt = [...prompts.turn1, ...turn1.ids, ...prompts.message];
        const turn2 = await generate(turn2Prompt, 1);
        out.turn2S = turn2.firstTokenS;
        out.turn2Reused = turn2.reused;
        out.turn2Tokens = turn2Prompt.length;
    }
    await clear();
    if (clients) {
        const run = await clients(prompts.clients, prompts.clientTokens);
        out.clientsTokS = run.tokens / run.wallS;
        out.clientsTokens = run.tokens;
    }
    return out;
}
