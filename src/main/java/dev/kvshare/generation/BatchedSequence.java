package dev.kvshare.generation;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

import dev.kvshare.model.BatchedKv;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.NativeScope;

/**
 * One sequence's handle on the {@link BatchScheduler}: its thread hands in the prompt and each chosen token
 * and waits for the next logits, which the scheduler computes together with the other running sequences'.
 * A plain sampler's tokens ({@link Sampler#plain}, the sequence's end decided by its tokens alone) are chosen
 * by the scheduler's thread right after each pass, and the sequence's thread takes them as they come
 * ({@link #tokens}); any other sequence samples on its own thread, from its own logits row.
 */
final class BatchedSequence implements KvKeepingDecoder {

    private final BatchScheduler scheduler;
    /**
     * The sequence's own natives until it joins the batch (its past, then its prefill's caches): closed by
     * the scheduler once the batch holds a copy of its rows, or once it is gone.
     */
    final NativeScope scope = new NativeScope();
    final KvCache past;
    final CachedDecoder.PrefillListener listener;
    /** Whose sequence this is: the unit of fair share in the batch. */
    final String client;
    /** This sequence's logits: written by the scheduler, then read by the sequence until it hands in a token. */
    final float[] logits;

    /** Where the sequence is; guarded by the scheduler's monitor, like the fields below. */
    enum State { NEW, WAITING, PREFILLING, JOINING, RUNNING, PARKED, GONE }

    State state = State.NEW;
    /** Made by the sequence's thread in {@link #start}, then run by the scheduler thread alone. */
    PromptPrefill prefill;
    int token = NO_TOKEN;
    boolean logitsReady;
    boolean left;
    RuntimeException failure;
    /** Its thread will not hand in a token for a while (its client is not reading): it leaves the batch. */
    boolean paused;
    /** It gave up its place to another client's sequence: it leaves the batch at the next repack. */
    boolean preempted;
    /** Sampled by the scheduler, it has its last token: its row leaves the batch at the next repack, parked. */
    boolean finished;

    /** Chooses its tokens on the scheduler's thread; null when its own thread samples them. */
    Sampler sampler;
    /** When it ends, for the scheduler sampling its tokens. */
    TokenEnding ending;
    /** Tokens the scheduler sampled that its thread has not taken yet, oldest first (at most two). */
    final Deque<Integer> sampled = new ArrayDeque<>(2);
    /** How many tokens the scheduler sampled for it. */
    int sampledCount;
    /** A sampled token to be handed in once its thread has taken the ones before it; else {@link #NO_TOKEN}. */
    int heldToken = NO_TOKEN;

    /** The prompt's KV once prefilled, until the sequence joins the batch; in its scope. */
    KvCache prefilled;
    /** Its row while it is out of the batch ({@link State#PARKED}), until it rejoins or leaves. */
    BatchedKv parked;

    /**
     * Its thread while it waits on the scheduler (for its logits, its next token, or, finished, its row out of
     * the batch); woken by the scheduler alone.
     */
    Thread waiter;

    static final int NO_TOKEN = -1;

    /** The KV it holds outside the batch: its prefilled prompt while it joins, or its parked row. */
    KvRow ownRow() {
        return prefilled != null ? KvRow.of(prefilled) : parked.row(0);
    }

    /**
     * Closes the KV it joins the batch with, once the batch holds a copy of it or it left: its scope (past,
     * prefill caches, prefilled prompt) and its parked row. The scheduler's call.
     */
    void closeJoiningKv() {
        scope.close();
        prefilled = null;
        if (parked != null) {
            parked.close();
            parked = null;
        }
    }

    /** @param past a restored prefix of the prompt, or the empty cache; the sequence's scope owns it from here */
    BatchedSequence(BatchScheduler scheduler, KvCache past, CachedDecoder.PrefillListener listener, String client,
                    int vocabSize) {
        this.scheduler = scheduler;
        this.past = scope.track(past);
        this.listener = listener;
        this.client = client;
        this.logits = new float[vocabSize];
    }

    @Override
    public float[] start(int[] promptIds) {
        return scheduler.start(this, promptIds);
    }

    @Override
    public float[] next(int tokenId) {
        return scheduler.next(this, tokenId);
    }

    /**
     * Where the sampler is plain and the tokens decide the end, the scheduler samples: between two passes it
     * waits for no thread of a sequence, only for the sampling itself, while the sequence's thread turns the
     * previous token into text beside the next pass.
     */
    @Override
    public TokenSource tokens(Sampler sampler, TokenEnding ending) {
        if (ending == null || !sampler.plain()) {
            return KvKeepingDecoder.super.tokens(sampler, ending);
        }
        return new TokenSource() {
            @Override
            public int first(int[] promptIds) {
                return scheduler.startSampled(BatchedSequence.this, promptIds, sampler, ending);
            }

            @Override
            public int next(int token) {
                return scheduler.takeToken(BatchedSequence.this);
            }
        };
    }

    @Override
    public void pause() {
        scheduler.pause(this);
    }

    @Override
    public void readKv(Consumer<KvRow> reader) {
        reader.accept(scheduler.kvOf(this));
    }

    @Override
    public void close() {
        scheduler.leave(this);
    }
}
