#include "cublas_loader.h"

#include <dlfcn.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

#include <cstdlib>
#include <mutex>
#include <sstream>

namespace kiln::cuda {
namespace {

bool isDir(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> globDirs(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), GLOB_ONLYDIR | GLOB_NOSORT, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

// Python package directories that may hold the nvidia wheels.
std::vector<std::string> pythonPackageDirs() {
  std::vector<std::string> dirs;
  if (const char* pp = std::getenv("PYTHONPATH")) {
    std::stringstream ss(pp);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) dirs.push_back(item);
    }
  }
  const char* patterns[] = {"/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
                            "/usr/lib/python3*/dist-packages", "/usr/lib/python3*/site-packages",
                            "/usr/lib/python3/dist-packages", "/opt/conda/lib/python3*/site-packages"};
  for (const char* p : patterns) {
    for (auto& d : globDirs(p)) dirs.push_back(d);
  }
  if (const char* home = std::getenv("HOME")) {
    for (auto& d : globDirs(std::string(home) + "/.local/lib/python3*/site-packages")) dirs.push_back(d);
  }
  // Interpreters on PATH (virtualenv, conda, pyenv): <bin>/../lib/python3*/site-packages
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string bin;
    while (std::getline(ss, bin, ':')) {
      if (bin.empty() || access((bin + "/python3").c_str(), X_OK) != 0) continue;
      for (auto& d : globDirs(bin + "/../lib/python3*/site-packages")) dirs.push_back(d);
    }
  }
  // Each place once, in first-seen order (by canonical path).
  std::vector<std::string> unique;
  std::vector<std::string> seen;
  for (auto& d : dirs) {
    char buf[PATH_MAX];
    std::string key = realpath(d.c_str(), buf) != nullptr ? std::string(buf) : d;
    bool dup = false;
    for (auto& k : seen) dup = dup || k == key;
    if (dup) continue;
    seen.push_back(key);
    unique.push_back(key);
  }
  return unique;
}

void* sym(void* lib, const char* name, std::string* missing) {
  void* p = dlsym(lib, name);
  if (p == nullptr) {
    if (!missing->empty()) *missing += ", ";
    *missing += name;
  }
  return p;
}

// Tries libcublasLt then libcublas at `prefix` + name (prefix is "" or a directory with '/').
bool tryOpen(CublasLib& L, const std::string& prefix, const char* version) {
  std::string ltName = prefix + "libcublasLt.so." + version;
  void* lt = dlopen(ltName.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lt == nullptr) {
    const char* e = dlerror();
    std::string why = e ? e : "not found";
    // dlerror repeats the name; keep the tail after the last ": "
    size_t cut = why.rfind(": ");
    L.searched.push_back(ltName + " (" + (cut == std::string::npos ? why : why.substr(cut + 2)) + ")");
    return false;
  }
  L.searched.push_back(ltName + " (opened)");
  std::string missing;
  L.ltCreate = reinterpret_cast<blas::PFN_cublasLtCreate>(sym(lt, "cublasLtCreate", &missing));
  L.ltDestroy = reinterpret_cast<blas::PFN_cublasLtDestroy>(sym(lt, "cublasLtDestroy", &missing));
  L.ltGetVersion = reinterpret_cast<blas::PFN_cublasLtGetVersion>(sym(lt, "cublasLtGetVersion", &missing));
  L.matmulDescCreate = reinterpret_cast<blas::PFN_cublasLtMatmulDescCreate>(sym(lt, "cublasLtMatmulDescCreate", &missing));
  L.matmulDescDestroy = reinterpret_cast<blas::PFN_cublasLtMatmulDescDestroy>(sym(lt, "cublasLtMatmulDescDestroy", &missing));
  L.matmulDescSetAttribute = reinterpret_cast<blas::PFN_cublasLtMatmulDescSetAttribute>(
      sym(lt, "cublasLtMatmulDescSetAttribute", &missing));
  L.layoutCreate = reinterpret_cast<blas::PFN_cublasLtMatrixLayoutCreate>(sym(lt, "cublasLtMatrixLayoutCreate", &missing));
  L.layoutDestroy = reinterpret_cast<blas::PFN_cublasLtMatrixLayoutDestroy>(sym(lt, "cublasLtMatrixLayoutDestroy", &missing));
  L.layoutSetAttribute = reinterpret_cast<blas::PFN_cublasLtMatrixLayoutSetAttribute>(
      sym(lt, "cublasLtMatrixLayoutSetAttribute", &missing));
  L.prefCreate = reinterpret_cast<blas::PFN_cublasLtMatmulPreferenceCreate>(sym(lt, "cublasLtMatmulPreferenceCreate", &missing));
  L.prefDestroy = reinterpret_cast<blas::PFN_cublasLtMatmulPreferenceDestroy>(sym(lt, "cublasLtMatmulPreferenceDestroy", &missing));
  L.prefSetAttribute = reinterpret_cast<blas::PFN_cublasLtMatmulPreferenceSetAttribute>(
      sym(lt, "cublasLtMatmulPreferenceSetAttribute", &missing));
  L.algoGetHeuristic = reinterpret_cast<blas::PFN_cublasLtMatmulAlgoGetHeuristic>(
      sym(lt, "cublasLtMatmulAlgoGetHeuristic", &missing));
  L.matmul = reinterpret_cast<blas::PFN_cublasLtMatmul>(sym(lt, "cublasLtMatmul", &missing));
  if (!missing.empty()) {
    L.searched.back() = ltName + " (opened, but missing symbols: " + missing + ")";
    dlclose(lt);
    return false;
  }
  L.ltPath = ltName;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(L.ltCreate), &info) != 0 && info.dli_fname != nullptr) L.ltPath = info.dli_fname;

  std::string blasName = prefix + "libcublas.so." + version;
  if (void* b = dlopen(blasName.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    std::string m2;
    L.create = reinterpret_cast<blas::PFN_cublasCreate_v2>(sym(b, "cublasCreate_v2", &m2));
    L.destroy = reinterpret_cast<blas::PFN_cublasDestroy_v2>(sym(b, "cublasDestroy_v2", &m2));
    L.setStream = reinterpret_cast<blas::PFN_cublasSetStream_v2>(sym(b, "cublasSetStream_v2", &m2));
    L.setMathMode = reinterpret_cast<blas::PFN_cublasSetMathMode>(sym(b, "cublasSetMathMode", &m2));
    L.sgemmStridedBatched = reinterpret_cast<blas::PFN_cublasSgemmStridedBatched>(sym(b, "cublasSgemmStridedBatched", &m2));
    if (m2.empty()) {
      L.blasPath = blasName;
      if (dladdr(reinterpret_cast<void*>(L.create), &info) != 0 && info.dli_fname != nullptr) L.blasPath = info.dli_fname;
      L.searched.push_back(blasName + " (opened)");
    } else {
      L.create = nullptr;
      L.destroy = nullptr;
      L.setStream = nullptr;
      L.setMathMode = nullptr;
      L.sgemmStridedBatched = nullptr;
      L.searched.push_back(blasName + " (opened, but missing symbols: " + m2 + "; not used)");
      dlclose(b);
    }
  } else {
    L.searched.push_back(blasName + " (not found; cuBLASLt is used alone)");
  }
  L.ok = true;
  return true;
}

CublasLib search() {
  CublasLib L;
  const char* versions[] = {"13", "12"};
  if (const char* dir = std::getenv("KILN_CUBLAS_PATH")) {
    if (*dir != '\0') {
      std::string d(dir);
      if (d.back() != '/') d += '/';
      for (const char* v : versions) {
        if (tryOpen(L, d, v)) return L;
      }
    }
  }
  for (const char* v : versions) {
    if (tryOpen(L, "", v)) return L;
  }
  for (const std::string& base : pythonPackageDirs()) {
    for (const char* sub : {"/nvidia/cu13/lib/", "/nvidia/cublas/lib/"}) {
      std::string d = base + sub;
      if (!isDir(d)) {
        L.searched.push_back(d + " (no such directory)");
        continue;
      }
      for (const char* v : versions) {
        if (tryOpen(L, d, v)) return L;
      }
    }
  }
  std::string places;
  for (const auto& s : L.searched) places += (places.empty() ? "" : "; ") + s;
  L.reason = "cuBLASLt not found (looked in: " + places +
             "). Install the nvidia-cublas wheel or set KILN_CUBLAS_PATH to the folder holding libcublasLt.so.13";
  return L;
}

}  // namespace

std::string CublasLib::description() const {
  if (!ok) return std::string();
  std::string d = "libcublasLt at " + ltPath;
  if (ltGetVersion != nullptr) d += " (version " + std::to_string(ltGetVersion()) + ")";
  if (!blasPath.empty()) d += ", libcublas at " + blasPath;
  return d;
}

const CublasLib& cublasLib() {
  static std::once_flag once;
  static CublasLib* lib = nullptr;
  std::call_once(once, [] { lib = new CublasLib(search()); });
  return *lib;
}

CublasLib probeCublas() {
  // The loaded result if there is one; otherwise a fresh search (libraries found stay open,
  // which is harmless: a later cublasLib() reuses them through the loader's reference count).
  return search();
}

}  // namespace kiln::cuda
