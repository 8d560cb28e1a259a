{
  'targets': [
    {
      'target_name': 'teardown_pcap',
      'sources': ['src/capture.c'],
      'cflags': ['-std=c11', '-Wall', '-Wextra', '-O2'],
      'defines': ['NAPI_VERSION=8', '_GNU_SOURCE'],
      'link_settings': { 'libraries': ['-lpcap', '-lpthread'] },
    },
  ],
}
