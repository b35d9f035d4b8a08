# The zoo as one container: `docker build -t zoo .` then `docker run -p 8501:8501 zoo`
# (add `--gpus all` on a GPU host). See README, "Hosting for a class".
FROM python:3.11-slim-bookworm

# The code in the image never changes, so Streamlit need not watch it for edits.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none
# ZOO_DEVICE is deliberately left unset: the zoo picks CUDA by itself when `docker run --gpus all`
# passes a GPU, else the CPU.

WORKDIR /app
# The same install as everywhere (scripts/install.sh), without the test browser. On Linux
# x86_64, PyPI's torch==2.13.0 is the CUDA build (several GB), which also runs on the CPU; so
# the one image serves GPU and CPU hosts alike.
COPY requirements.txt ./
COPY scripts/install.sh scripts/
RUN bash scripts/install.sh --no-browser \
    && rm -rf /var/lib/apt/lists/*

COPY . .
RUN useradd -m zoo
USER zoo
# Build the text corpus once (KJV + gensim's Wikipedia sample, ~5 s) so no visitor waits for it.
RUN python -c "from zoo.data import text; text.load('train')"

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://localhost:8501/_stcore/health').read()==b'ok' else 1)"
CMD ["streamlit", "run", "streamlit_app.py", "--server.address=0.0.0.0"]
