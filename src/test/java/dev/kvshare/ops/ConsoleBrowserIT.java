package dev.kvshare.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import dev.kvshare.constrain.SchemaGuarantee;
import dev.kvshare.testsupport.Http;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

/**
 * The console in a real browser: Debian's chromium, headless, through its chromedriver, against an instance
 * with Redis. A chat streams its reply into the page, and the second reply of a conversation shows the prompt
 * tokens restored from the prompt cache; Stop ends a stream; max_tokens and temperature go into the request,
 * which the raw view shows with the events that came back; JSON mode answers with a value of its schema, tools
 * mode with a call; at 400 px the input stays on screen. Skipped where chromium is not installed
 * ({@code apt-get install chromium chromium-driver}). Leaves screenshots in {@code target/console.png} and
 * {@code target/console-narrow.png} (the ones in docs/images are such screenshots).
 */
// Beside the serial integration tests, but never during one that captures the output (docs/architecture.md,
// Tests); its tests one after another, in one browser.
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(value = Resources.SYSTEM_OUT, mode = ResourceAccessMode.READ)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserIT {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    /** Chromium's TMPDIR: its profile lock and socket would otherwise stay in the system temp dir after every run. */
    @TempDir
    static Path chromiumTemp;

    private TestRedis redis;
    private Instance instance;
    private ChromeDriver browser;

    @BeforeAll
    void start() {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER), "Skipped: the console's "
                + "browser test needs Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                + "): apt-get install chromium chromium-driver");
        redis = new TestRedis().start();
        instance = Instance.start(Map.of("kvshare.prompt-cache.block-size", 16, "kvshare.prompt-cache.redis.enabled",
                true, "spring.data.redis.host", redis.host(), "spring.data.redis.port", redis.port()));
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,860");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withEnvironment(Map.of("TMPDIR", chromiumTemp.toString())).build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (instance != null) {
            instance.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    /** Loads the console at a window size and waits until it knows the model. */
    private WebDriverWait open(int width, int height) {
        browser.manage().window().setSize(new Dimension(width, height));
        browser.get(instance.http().baseUrl() + "/console");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofMinutes(2));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("model"), "kvshare-support-tiny"));
        return wait;
    }

    private void type(String id, String value) {
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(value);
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void aChatStreamsItsRepliesAndTheSecondShowsCachedTokens() {
        WebDriverWait wait = open(1280, 860);

        WebElement first = send(wait, "Where is my order 417263?", 1);
        // More than one piece of text arrived: the reply was streamed, not set at once.
        assertThat(Integer.parseInt(first.getAttribute("data-chunks"))).isGreaterThan(1);
        assertThat(first.findElement(By.className("text")).getText()).isNotBlank();
        assertThat(first.findElement(By.className("stats")).getText()).contains("cached_tokens", "TTFT", "tokens/s");

        WebElement second = send(wait, "Can I still change the delivery address?", 2);
        int cached = Integer.parseInt(second.getAttribute("data-cached-tokens"));
        assertThat(cached).isPositive();
        assertThat(second.findElement(By.className("stats")).getText()).startsWith("cached_tokens " + cached + " of ");

        // The prompt-cache panel shows the system prompt's blocks held by the local tier.
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("cacheState"), "in local tier"));
        assertThat(browser.findElement(By.id("cacheState")).getText()).containsPattern("in local tier\\s+(\\d+) of \\1 blocks");
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void stopEndsTheStreamAndKeepsWhatArrived() throws InterruptedException {
        WebDriverWait wait = open(1280, 860);
        type("maxTokens", "1500");
        type("temperature", "1.5");
        double cancelledBefore = cancelled();
        By reply = By.cssSelector("#messages li.assistant:last-child");
        browser.manage().timeouts().scriptTimeout(Duration.ofMinutes(2));
        for (int attempt = 1; ; attempt++) { // a reply the model ended before its first text arrived: again
            browser.findElement(By.id("message")).sendKeys("Tell me everything about your refunds, returns and delivery.");
            browser.findElement(By.id("send")).click();
            // Stop as soon as the first text is in the page (a poll from Java could come after a short reply's end).
            browser.executeAsyncScript("""
                    const done = arguments[arguments.length - 1];
                    const reply = document.querySelector('#messages li.assistant:last-child');
                    (function check() {
                      if (reply.dataset.state === 'streaming' && Number(reply.dataset.chunks) >= 1) {
                        document.getElementById('stop').click();
                        done();
                      } else if (reply.dataset.state !== 'streaming') {
                        done();
                      } else {
                        setTimeout(check, 2);
                      }
                    })();""");
            wait.until(driver -> !"streaming".equals(driver.findElement(reply).getAttribute("data-state")));
            boolean stopped = "stopped".equals(browser.findElement(reply).getAttribute("data-state"));
            // A slow page can stop a reply that the service had already finished (a cancel never counted): again.
            new WebDriverWait(browser, Duration.ofSeconds(30)).until(driver -> metric("kvshare_requests_running") == 0);
            if (stopped && cancelled() > cancelledBefore || attempt == 5) {
                break;
            }
        }
        assertThat(browser.findElement(reply).getAttribute("data-state")).isEqualTo("stopped");
        String kept = browser.findElement(reply).findElement(By.className("text")).getText();
        assertThat(kept).isNotEmpty();
        Thread.sleep(1_500); // nothing more arrives once stopped
        assertThat(browser.findElement(reply).findElement(By.className("text")).getText()).isEqualTo(kept);
        assertThat(browser.findElement(reply).findElement(By.className("stats")).getText()).isEqualTo("stopped");
        assertThat(browser.findElement(By.id("send")).isEnabled()).isTrue();
        assertThat(browser.findElement(By.id("stop")).isEnabled()).isFalse();
        // and the service stopped generating it: the request counts as cancelled by its client
        new WebDriverWait(browser, Duration.ofSeconds(30)).until(driver -> cancelled() > cancelledBefore);
    }

    private double cancelled() {
        return metric("kvshare_requests_cancelled_total");
    }

    /** The sum of a metric's series. */
    private double metric(String name) {
        return instance.http().get("/actuator/prometheus").body().lines()
                .filter(l -> l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void maxTokensAndTemperatureGoIntoTheRequestTheRawViewShows() {
        WebDriverWait wait = open(1280, 860);
        type("maxTokens", "7");
        type("temperature", "0.3");
        WebElement reply = send(wait, "Where is my order 417263?", 1);

        browser.findElement(By.cssSelector("#raw summary")).click();
        String request = browser.findElement(By.id("rawRequest")).getText();
        assertThat(request).startsWith("POST /v1/chat/completions").contains("\"max_tokens\": 7", "\"temperature\": 0.3",
                "Where is my order 417263?");
        String response = browser.findElement(By.id("rawResponse")).getText();
        assertThat(response).startsWith("data: {").contains("\"finish_reason\"", "\"completion_tokens\"");
        JsonNode usage = Http.JSON.readTree(response.lines().reduce((a, b) -> b).orElseThrow().substring(6))
                .path("usage");
        assertThat(usage.path("completion_tokens").asInt()).isBetween(1, 7);
        assertThat(reply.getAttribute("data-finish-reason")).isIn("stop", "length");
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void jsonModeAnswersWithAValueOfItsSchema() throws IOException {
        WebDriverWait wait = open(1280, 860);
        new Select(browser.findElement(By.id("mode"))).selectByVisibleText("JSON schema");
        assertThat(browser.findElement(By.id("schema")).isDisplayed()).isTrue();
        assertThat(browser.findElement(By.id("tools")).isDisplayed()).isFalse();
        type("temperature", "1");
        WebElement reply = send(wait, "My order 4417203 never arrived and I need it for Friday.", 1);

        JsonNode schema = Http.JSON.readTree(browser.findElement(By.id("schema")).getAttribute("value"));
        String value = reply.findElement(By.className("text")).getDomProperty("textContent");
        assertThat(SchemaGuarantee.problems(schema, value)).as(value).isEmpty();
        assertThat(reply.getAttribute("data-finish-reason")).isIn("stop", "length");
        browser.findElement(By.cssSelector("#raw summary")).click();
        assertThat(browser.findElement(By.id("rawRequest")).getText()).contains("\"response_format\"", "json_schema");

        File screenshot = browser.getScreenshotAs(OutputType.FILE);
        Files.copy(screenshot.toPath(), Path.of("target", "console.png"), StandardCopyOption.REPLACE_EXISTING);
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void toolsModeShowsTheCallTheModelMade() {
        WebDriverWait wait = open(1280, 860);
        new Select(browser.findElement(By.id("mode"))).selectByVisibleText("Tools");
        new Select(browser.findElement(By.id("toolChoice"))).selectByVisibleText("required");
        WebElement reply = send(wait, "Is there an outage at postcode 4051?", 1);

        assertThat(reply.getAttribute("data-finish-reason")).isIn("tool_calls", "length");
        String call = reply.findElement(By.className("toolcall")).getDomProperty("textContent");
        assertThat(call).startsWith("check_outage({\"postcode\":");
        JsonNode arguments = Http.JSON.readTree(call.substring("check_outage(".length(), call.length() - 1));
        assertThat(arguments.path("postcode").isString()).isTrue();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void at400PixelsTheConversationAndItsInputAreOnScreen() throws IOException {
        WebDriverWait wait = open(400, 800);
        assertThat(browser.findElement(By.id("settings")).getAttribute("open")).as("settings folded").isNull();
        send(wait, "Where is my order 417263?", 1);

        Map<?, ?> layout = (Map<?, ?>) browser.executeScript("""
                const input = document.getElementById('message').getBoundingClientRect();
                const stop = document.getElementById('stop').getBoundingClientRect();
                return {width: innerWidth, height: innerHeight, scrollWidth: document.documentElement.scrollWidth,
                        inputLeft: input.left, inputBottom: input.bottom, inputWidth: input.width,
                        stopRight: stop.right};""");
        double width = ((Number) layout.get("width")).doubleValue();
        assertThat(width).isLessThanOrEqualTo(400);
        assertThat(((Number) layout.get("scrollWidth")).doubleValue()).as("no sideways scrolling").isLessThanOrEqualTo(width);
        assertThat(((Number) layout.get("inputLeft")).doubleValue()).isGreaterThanOrEqualTo(0);
        assertThat(((Number) layout.get("inputWidth")).doubleValue()).isGreaterThan(width / 3);
        assertThat(((Number) layout.get("stopRight")).doubleValue()).isLessThanOrEqualTo(width);
        assertThat(((Number) layout.get("inputBottom")).doubleValue())
                .isLessThanOrEqualTo(((Number) layout.get("height")).doubleValue());
        assertThat(browser.findElement(By.id("message")).isDisplayed()).isTrue();

        File screenshot = browser.getScreenshotAs(OutputType.FILE);
        Files.copy(screenshot.toPath(), Path.of("target", "console-narrow.png"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Sends a message and waits (bounded) for its reply to finish; returns the reply. */
    private WebElement send(WebDriverWait wait, String message, int replies) {
        browser.findElement(By.id("message")).sendKeys(message);
        browser.findElement(By.id("send")).click();
        By done = By.cssSelector("#messages li.assistant[data-state='done']");
        wait.until(ExpectedConditions.numberOfElementsToBe(done, replies));
        List<WebElement> finished = browser.findElements(done);
        return finished.get(replies - 1);
    }
}
