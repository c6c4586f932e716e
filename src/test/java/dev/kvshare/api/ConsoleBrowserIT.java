package dev.kvshare.api;

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
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real browser: Debian's chromium, headless, through its chromedriver, against an instance
 * with Redis. A chat streams its reply into the page, and the second reply of a conversation shows the prompt
 * tokens restored from the prompt cache. Skipped where chromium is not installed ({@code apt-get install chromium chromium-driver}).
 * Leaves a screenshot in {@code target/console.png} (the one in docs/ is such a screenshot).
 */
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

    @Test
    void aChatStreamsItsRepliesAndTheSecondShowsCachedTokens() throws IOException {
        browser.get(instance.http().baseUrl() + "/console");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofMinutes(2));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("model"), "kvshare-support-tiny"));

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

        File screenshot = browser.getScreenshotAs(OutputType.FILE);
        Files.copy(screenshot.toPath(), Path.of("target", "console.png"), StandardCopyOption.REPLACE_EXISTING);
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
